#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "imzala-application.h"
#include "imzala-http-session.h"
#include "imzala-secret.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(ImzalaApplication) app = NULL;

  /* A PIN passes through this process: no core dumps, not ptrace-able. */
  imzala_secret_harden_process ();
  /* Before any thread and any connection: TLS 1.2 and 1.3 only. */
  imzala_http_init_tls_policy (IMZALA_HTTP_TLS_PRIORITY);

  setlocale (LC_ALL, "");
  /* IMZALA_LOCALEDIR lets a build tree run in Turkish before it is installed
   * (<builddir>/po holds tr/LC_MESSAGES/imzala.mo); tests and tools/screenshots
   * set it. */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("IMZALA_LOCALEDIR") ? g_getenv ("IMZALA_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = imzala_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
