/* module-load.c: a for-scale row of tools/bench. It loads a PKCS#11 module
 * with dlopen(), initializes it, lists its slots with a token and finalizes
 * it, nothing more: the part of a signing command that the module itself
 * costs, and with it what the libraries already mapped into the process
 * cost the module's start (the dynamic loader looks up each of the module's
 * symbols in every library of the program's global scope before the
 * module's own). tools/bench builds it twice with cc, never by meson: linked
 * with the libraries `openssl` maps at start, and with those `imzala-cli`
 * maps and -DMODULE_LOAD_DEEPBIND, as imzala-cli opens a module with
 * RTLD_DEEPBIND (src/core/imzala-module-set.c), so that the two differ
 * only in what each program does. Both bind lazily (RTLD_LAZY), as
 * imzala-cli and the pkcs11 engine's libp11 open a module.
 *
 *   module-load MODULE.so */
#include <dlfcn.h>
#include <stdio.h>
#include <p11-kit/pkcs11.h>

int
main (int argc, char **argv)
{
  CK_C_GetFunctionList get_function_list;
  CK_FUNCTION_LIST_PTR functions;
  CK_C_INITIALIZE_ARGS args = { 0 };
  CK_ULONG slots = 0;
  void *module;

  if (argc != 2)
    {
      fprintf (stderr, "usage: module-load MODULE.so\n");
      return 2;
    }
#ifdef MODULE_LOAD_DEEPBIND
  module = dlopen (argv[1], RTLD_LAZY | RTLD_LOCAL | RTLD_DEEPBIND);
#else
  module = dlopen (argv[1], RTLD_LAZY | RTLD_LOCAL);
#endif
  if (module == NULL)
    {
      fprintf (stderr, "module-load: %s\n", dlerror ());
      return 1;
    }
  get_function_list = (CK_C_GetFunctionList) dlsym (module, "C_GetFunctionList");
  args.flags = CKF_OS_LOCKING_OK;
  if (get_function_list == NULL || get_function_list (&functions) != CKR_OK
      || functions->C_Initialize (&args) != CKR_OK)
    {
      fprintf (stderr, "module-load: %s does not start\n", argv[1]);
      return 1;
    }
  functions->C_GetSlotList (CK_TRUE, NULL, &slots);
  functions->C_Finalize (NULL);
  printf ("%lu\n", (unsigned long) slots);
  return 0;
}
