/* imzala-cli: placeholder until the CLI lands. */
#include "config.h"
#include <stdio.h>
int
main (int argc, char **argv)
{
  fprintf (stderr, "imzala-cli: not built yet\n");
  return 1;
}
