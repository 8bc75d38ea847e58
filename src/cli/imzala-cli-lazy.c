/* The resolver behind the lazy-loading stubs (imzala-cli-lazy.h). It runs
 * before the library it opens exists in the process, so it calls nothing
 * but libc: no GLib function that is itself a stub, no lock a stub could
 * take again. */
#include "config.h"

#include <dlfcn.h>
#include <libintl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "imzala-cli.h"
#include "imzala-cli-lazy.h"

/* The slots the stubs jump through (in the generated assembly). */
extern void *imzala_lazy_slots[];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void
fail (const char *what,
      const char *why)
{
  /* Said in the user's language when the catalogue is loaded (it is by
   * the time any command runs); gettext is libc's. */
  fprintf (stderr, "imzala-cli: ");
  fprintf (stderr, dgettext (GETTEXT_PACKAGE, "İmzala is not installed completely: %s cannot be loaded (%s). Install the imzala package again."),
           what, why != NULL ? why : "?");
  fputc ('\n', stderr);
  _exit (IMZALA_CLI_EXIT_FAILED);
}

void *
imzala_lazy_resolve (unsigned long index)
{
  /* Stub @index passes its own index: the tables are made with the stubs. */
  const ImzalaLazySymbol *symbol = &imzala_lazy_symbols[index];
  void **handle = &imzala_lazy_handles[symbol->library];
  void *function;

  pthread_mutex_lock (&lock);
  if (*handle == NULL)
    {
      /* Local: the library's symbols do not join the scope that every
       * later lookup (a PKCS#11 module's load above all) goes through. A
       * library that needs it (libsoup, a GIO module) names it itself. */
      *handle = dlopen (imzala_lazy_libraries[symbol->library], RTLD_NOW | RTLD_LOCAL);
      if (*handle == NULL)
        fail (imzala_lazy_libraries[symbol->library], dlerror ());
    }
  function = dlsym (*handle, symbol->name);
  if (function == NULL)
    fail (symbol->name, dlerror ());
  __atomic_store_n (&imzala_lazy_slots[index], function, __ATOMIC_RELEASE);
  pthread_mutex_unlock (&lock);
  return function;
}
