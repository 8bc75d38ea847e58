/* imzala-module-set-private.h: what the files of ImzalaModuleSet share.
 *
 * ImzalaModuleSet is one class in two files, split by job:
 * imzala-module-set.c (life and loading the modules: p11-kit registered and
 * by path, managed or unmanaged, the known AKİS paths) and
 * imzala-module-set-tokens.c (listing the tokens of the loaded modules and
 * finding a certificate or a token among them). Only they include this
 * header.
 */
#pragma once

#include "imzala-module-set.h"
#include "imzala-pkcs11-private.h"

G_BEGIN_DECLS

struct _ImzalaModuleSet
{
  GObject parent_instance;

  gboolean use_registered;
  /* Every module called on the thread that loads the set. */
  gboolean single_thread;
  GPtrArray *paths;        /* char* */
  GPtrArray *modules;      /* ImzalaModule */
  GPtrArray *load_errors;  /* ImzalaModuleLoadError */
  GHashTable *loaded_files; /* canonical path -> NULL */
  gboolean load_started;
  /* Lower-case hex: only the certificates whose SHA-256 fingerprint starts
   * with it are read (imzala_module_set_only_certificate()); else NULL. */
  char *only_fingerprint;
  /* The PKCS#11 URI of imzala_module_set_only_certificate(): only the cards
   * it names are read; else NULL. */
  char *only_uri;
};

G_END_DECLS
