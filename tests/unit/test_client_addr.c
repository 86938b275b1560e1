/* Unit tests for src/app/client_addr: address/CIDR lists and X-Forwarded-For resolution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "app/client_addr.h"

static struct addr_list *parse_ok(const char *text)
{
    char err[64] = "unset";
    struct addr_list *l = addr_list_parse(text, err, sizeof err);
    if (!l) fail_msg("\"%s\" rejected at \"%s\"", text, err);
    assert_string_equal(err, "");
    return l;
}

static void parse_bad(const char *text, const char *entry)
{
    char err[64] = "";
    struct addr_list *l = addr_list_parse(text, err, sizeof err);
    if (l) fail_msg("\"%s\" accepted", text);
    assert_string_equal(err, entry);
}

static void ipv4_lists(void **state)
{
    (void)state;
    struct addr_list *l = parse_ok("10.0.0.0/8, 192.168.1.7 ,172.16.0.0/12");
    assert_true(addr_list_contains(l, "10.0.0.0"));
    assert_true(addr_list_contains(l, "10.255.255.255"));
    assert_false(addr_list_contains(l, "11.0.0.0"));
    assert_false(addr_list_contains(l, "9.255.255.255"));
    assert_true(addr_list_contains(l, "192.168.1.7"));
    assert_false(addr_list_contains(l, "192.168.1.8"));
    assert_true(addr_list_contains(l, "172.31.255.255"));
    assert_false(addr_list_contains(l, "172.32.0.0"));
    assert_false(addr_list_contains(l, "2001:db8::1"));
    assert_false(addr_list_contains(l, "not an address"));
    assert_false(addr_list_contains(l, ""));
    assert_false(addr_list_contains(l, NULL));
    addr_list_free(l);
}

static void cidr_edges(void **state)
{
    (void)state;
    struct addr_list *all4 = parse_ok("0.0.0.0/0");
    assert_true(addr_list_contains(all4, "1.2.3.4"));
    assert_true(addr_list_contains(all4, "255.255.255.255"));
    assert_true(addr_list_contains(all4, "::ffff:1.2.3.4"));
    assert_false(addr_list_contains(all4, "2001:db8::1")); /* all IPv4 is not all IPv6 */
    addr_list_free(all4);

    struct addr_list *one = parse_ok("203.0.113.9/32, 2001:db8::9/128");
    assert_true(addr_list_contains(one, "203.0.113.9"));
    assert_false(addr_list_contains(one, "203.0.113.8"));
    assert_true(addr_list_contains(one, "2001:db8::9"));
    assert_true(addr_list_contains(one, "2001:0db8:0:0:0:0:0:9"));
    assert_false(addr_list_contains(one, "2001:db8::8"));
    addr_list_free(one);

    struct addr_list *all6 = parse_ok("::/0");
    assert_true(addr_list_contains(all6, "2001:db8::1"));
    assert_true(addr_list_contains(all6, "::1"));
    addr_list_free(all6);

    struct addr_list *odd = parse_ok("10.1.2.3/31, 2001:db8::/33");
    assert_true(addr_list_contains(odd, "10.1.2.2"));
    assert_false(addr_list_contains(odd, "10.1.2.4"));
    assert_true(addr_list_contains(odd, "2001:db8:7fff:ffff::1"));
    assert_false(addr_list_contains(odd, "2001:db8:8000::"));
    addr_list_free(odd);
    struct addr_list *host = parse_ok("10.9.9.9/8"); /* host bits after the prefix are ignored */
    assert_true(addr_list_contains(host, "10.200.0.1"));
    assert_false(addr_list_contains(host, "11.9.9.9"));
    addr_list_free(host);
}

static void ipv6_and_mapped(void **state)
{
    (void)state;
    struct addr_list *l = parse_ok("2001:db8::/32,::1, 198.51.100.0/24");
    assert_true(addr_list_contains(l, "2001:db8:ffff::1"));
    assert_false(addr_list_contains(l, "2001:db9::1"));
    assert_true(addr_list_contains(l, "::1"));
    assert_false(addr_list_contains(l, "::2"));
    assert_true(addr_list_contains(l, "::ffff:198.51.100.20"));
    assert_true(addr_list_contains(l, "::FFFF:c633:6414"));
    assert_false(addr_list_contains(l, "::ffff:198.51.101.20"));
    assert_false(addr_list_contains(l, "::198.51.100.20")); /* IPv4-compatible is not mapped */
    addr_list_free(l);

    struct addr_list *m = parse_ok("::ffff:192.0.2.1");
    assert_true(addr_list_contains(m, "192.0.2.1"));
    addr_list_free(m);
}

static void bad_entries_rejected(void **state)
{
    (void)state;
    parse_bad("10.0.0.0/8, 10.0.0.0/33", "10.0.0.0/33");
    parse_bad("2001:db8::/129", "2001:db8::/129");
    parse_bad("10.0.0.0/", "10.0.0.0/");
    parse_bad("10.0.0.0/-1", "10.0.0.0/-1");
    parse_bad("10.0.0.0/+8", "10.0.0.0/+8");
    parse_bad("10.0.0.0/8x", "10.0.0.0/8x");
    parse_bad("10.0.0.0/0008", "10.0.0.0/0008");
    parse_bad("1.2.3.4/8/8", "1.2.3.4/8/8");
    parse_bad("1.2.3", "1.2.3");
    parse_bad("256.1.1.1", "256.1.1.1");
    parse_bad(" localhost ", "localhost");
    parse_bad("1.2.3.4 5.6.7.8", "1.2.3.4 5.6.7.8");
    parse_bad("::1::2", "::1::2");
    parse_bad("/8", "/8");

    struct addr_list *l = addr_list_parse("", NULL, 0); /* err is optional */
    assert_non_null(l);
    assert_false(addr_list_contains(l, "1.2.3.4"));
    addr_list_free(l);
    l = parse_ok(" , 1.2.3.4 ,, ");
    assert_true(addr_list_contains(l, "1.2.3.4"));
    addr_list_free(l);
    l = parse_ok(NULL);
    addr_list_free(l);
    addr_list_free(NULL);
    assert_false(addr_list_contains(NULL, "1.2.3.4"));
}

static const char *resolve(const char *peer, const char *xff, const struct addr_list *trusted)
{
    static char out[64]; /* test helper only */
    client_addr_resolve(peer, xff, trusted, out, sizeof out);
    return out;
}

static void forwarded_for(void **state)
{
    (void)state;
    struct addr_list *t = parse_ok("10.0.0.0/8, fd00::/8");

    /* Untrusted peer: its header is ignored. */
    assert_string_equal(resolve("203.0.113.5", "198.51.100.1", t), "203.0.113.5");
    assert_string_equal(resolve("203.0.113.5", NULL, t), "203.0.113.5");
    /* Trusted peer, no header or an empty one: the peer. */
    assert_string_equal(resolve("10.0.0.1", NULL, t), "10.0.0.1");
    assert_string_equal(resolve("10.0.0.1", "", t), "10.0.0.1");
    assert_string_equal(resolve("10.0.0.1", " , ", t), "10.0.0.1");
    /* One hop. */
    assert_string_equal(resolve("10.0.0.1", "198.51.100.1", t), "198.51.100.1");
    /* Three hops: the client, then two trusted proxies. */
    assert_string_equal(resolve("10.0.0.1", "198.51.100.1, 10.0.0.3, 10.0.0.2", t), "198.51.100.1");
    /* Spoofed left-most hops are ignored: the right-most untrusted one wins. */
    assert_string_equal(resolve("10.0.0.1", "1.1.1.1, 2.2.2.2, 198.51.100.1, 10.0.0.2", t),
                        "198.51.100.1");
    assert_string_equal(resolve("10.0.0.1", "1.1.1.1,198.51.100.1", t), "198.51.100.1");
    /* All trusted: the left-most. */
    assert_string_equal(resolve("10.0.0.1", "10.0.0.9, 10.0.0.3", t), "10.0.0.9");
    /* A malformed hop ends the walk. */
    assert_string_equal(resolve("10.0.0.1", "198.51.100.1, garbage, 10.0.0.2", t), "10.0.0.2");
    assert_string_equal(resolve("10.0.0.1", "198.51.100.1, unknown", t), "10.0.0.1");
    /* Forms some proxies write. */
    assert_string_equal(resolve("10.0.0.1", "198.51.100.1:4711", t), "198.51.100.1");
    assert_string_equal(resolve("10.0.0.1", "[2001:db8::1]:443", t), "2001:db8::1");
    assert_string_equal(resolve("10.0.0.1", "[2001:db8::1]", t), "2001:db8::1");
    assert_string_equal(resolve("10.0.0.1", "[198.51.100.1]", t), "10.0.0.1");
    /* IPv6 and mapped addresses, canonical output. */
    assert_string_equal(resolve("fd00::1", "2001:DB8:0:0::7", t), "2001:db8::7");
    assert_string_equal(resolve("::ffff:10.0.0.1", "::ffff:198.51.100.1", t), "198.51.100.1");
    assert_string_equal(resolve("::ffff:203.0.113.5", NULL, t), "203.0.113.5");
    assert_string_equal(resolve("2001:0db8:0000::0001", NULL, t), "2001:db8::1");
    addr_list_free(t);

    /* No trusted list: always the peer. */
    assert_string_equal(resolve("10.0.0.1", "198.51.100.1", NULL), "10.0.0.1");
    /* A peer that is not an IP address is kept as text. */
    assert_string_equal(resolve("unix", "198.51.100.1", NULL), "unix");
    assert_string_equal(resolve(NULL, NULL, NULL), "");

    char small[6];
    client_addr_resolve("198.51.100.1", NULL, NULL, small, sizeof small);
    assert_string_equal(small, "198.5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_lists),      cmocka_unit_test(cidr_edges),
        cmocka_unit_test(ipv6_and_mapped), cmocka_unit_test(bad_entries_rejected),
        cmocka_unit_test(forwarded_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
