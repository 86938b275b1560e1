/* The client address for quotas (DESIGN §6): the socket peer, or the right-most untrusted
 * X-Forwarded-For hop when the peer is a trusted proxy. A body field never decides it.
 * Address lists (IP_INCLUDE, TRUSTED_PROXIES) hold IPv4/IPv6 addresses and CIDRs. */
#ifndef PP_APP_CLIENT_ADDR_H
#define PP_APP_CLIENT_ADDR_H

#include <stdbool.h>
#include <stddef.h>

struct addr_list;

/* Parses "10.0.0.0/8, 192.168.1.7, 2001:db8::/32". On a bad entry returns NULL and writes the
 * entry into err. An empty string gives an empty list. Owner frees with addr_list_free. */
struct addr_list *addr_list_parse(const char *text, char *err, size_t errlen);
void addr_list_free(struct addr_list *l);
bool addr_list_contains(const struct addr_list *l, const char *addr);

/* Resolves the client address into out (canonical text form). xff may be NULL. */
void client_addr_resolve(const char *peer, const char *xff, const struct addr_list *trusted,
                         char *out, size_t outlen);

#endif
