/* ctl.h: netpolctl subcommands, one file each (agent/ctl/<name>.c). Each returns the process
 * exit status: 0 success (or "allowed"), 1 a negative answer ("denied", warnings found),
 * 2 a usage or input error. */
#ifndef NPD_CTL_H
#define NPD_CTL_H

int ctl_simulate_main(int argc, char **argv);
int ctl_lint_main(int argc, char **argv);
int ctl_render_main(int argc, char **argv);

#endif
