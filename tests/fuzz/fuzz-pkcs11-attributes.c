/* fuzz-pkcs11-attributes.c: libFuzzer harness for the PKCS#11 attribute
 * readers of imzala-pkcs11-object.c, which believe nothing a module says
 * about lengths (HACKING.md, "What a module says about sizes is checked").
 *
 * The module is the real tests/imzala-fault-pkcs11.c (IMZALA_FAULT_MODULE,
 * or next to this program in the build tree), its C_GetAttributeValue
 * answering from the input (imzala_fault_fuzz_attributes(): per call a
 * CK_RV, per attribute a length, an absurd length or a value that claims
 * more than it wrote; see the module's header comment). No token is needed:
 * nothing else of the module is called. Each input is one run of the
 * readers a listing and a key lookup make, in their order.
 */
#define G_LOG_DOMAIN "fuzz-pkcs11-attributes"

#include "config.h"

#include <dlfcn.h>
#include <stdint.h>

#include "imzala-certificate.h"
#include "imzala-pkcs11-private.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static CK_FUNCTION_LIST *functions;
static void (*fuzz_attributes) (const unsigned char *script, size_t size);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  const char *path = g_getenv ("IMZALA_FAULT_MODULE");
  g_autofree char *dir = g_path_get_dirname ((*argv)[0]);
  g_autofree char *beside = g_build_filename (dir, "..", "imzala-fault-pkcs11.so", NULL);
  CK_RV (*get_function_list) (CK_FUNCTION_LIST_PTR_PTR);
  void *module;

  module = dlopen (path != NULL ? path : beside, RTLD_NOW | RTLD_LOCAL);
  if (module == NULL)
    g_error ("fuzz-pkcs11-attributes: %s", dlerror ());
  get_function_list = (CK_RV (*) (CK_FUNCTION_LIST_PTR_PTR)) dlsym (module, "C_GetFunctionList");
  fuzz_attributes = (void (*) (const unsigned char *, size_t)) dlsym (module,
                                                                      "imzala_fault_fuzz_attributes");
  if (get_function_list == NULL || fuzz_attributes == NULL
      || get_function_list (&functions) != CKR_OK)
    g_error ("fuzz-pkcs11-attributes: not the fault module: %s", path != NULL ? path : beside);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const CK_ATTRIBUTE_TYPE types[] = { CKA_MODULUS, CKA_EC_POINT, CKA_KEY_TYPE, CKA_ID };
  const CK_SESSION_HANDLE session = 1;
  const CK_OBJECT_HANDLE object = 2;
  g_autoptr(GBytes) value = NULL;
  g_autoptr(GBytes) id = NULL;
  g_autoptr(GBytes) single = NULL;
  g_autofree char *label = NULL;
  g_autofree char *label_again = NULL;
  GBytes *values[G_N_ELEMENTS (types)] = { NULL };
  ImzalaPkcs11Key key = { 0 };

  fuzz_attributes (data, size);

  imzala_pkcs11_get_certificate_attributes (functions, session, object, &value, &id, &label);
  g_assert (label == NULL || g_utf8_validate (label, -1, NULL));
  if (value != NULL)
    g_clear_object (&(ImzalaCertificate *) { imzala_certificate_new_from_der (value, NULL) });

  single = imzala_pkcs11_get_attribute (functions, session, object, CKA_VALUE);
  (void) imzala_pkcs11_get_bool_attribute (functions, session, object, CKA_SIGN);
  label_again = imzala_pkcs11_get_label_attribute (functions, session, object);
  g_assert (label_again == NULL || g_utf8_validate (label_again, -1, NULL));

  imzala_pkcs11_get_attributes (functions, session, object, types, G_N_ELEMENTS (types), values);
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    g_clear_pointer (&values[i], g_bytes_unref);

  imzala_pkcs11_read_key (functions, session, object, CKO_PRIVATE_KEY, &key);
  imzala_pkcs11_key_clear (&key);

  fuzz_attributes (NULL, 0);
  return 0;
}
