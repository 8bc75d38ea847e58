/* imzala-cli-portal.h: `imzala-cli portal`, a portal request signed without a
 * window (the same ImzalaSigningJob the GUI follows). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @argv[0] is "portal". Returns an exit code from ImzalaCliExit. */
int imzala_cli_portal (int argc, char **argv);

G_END_DECLS
