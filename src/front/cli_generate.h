/* `pixelprompt generate PROMPT [--models id,...] [--out DIR]`: one job from the terminal, with the
 * same configuration and engine as the server. */
#ifndef PP_FRONT_CLI_GENERATE_H
#define PP_FRONT_CLI_GENERATE_H

/* argv holds the arguments after "generate". Returns the process exit status: 0 when at least
 * one model produced an image, 1 when all failed, 2 on a usage or configuration mistake. */
int cli_generate(int argc, char **argv);

#endif
