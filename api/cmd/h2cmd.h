/* h2cmd.h: the subcommands of the h2 program. Each takes the arguments after
 * its own name (argv[0] is the subcommand name) and returns the process exit
 * status: 0 on success, 1 on a failure of the work, 2 on a usage error. */
#ifndef H2CMD_H
#define H2CMD_H

int h2_cmd_hpack(int argc, char **argv);
int h2_cmd_serve(int argc, char **argv);
int h2_cmd_get(int argc, char **argv);

#endif
