/* imzala-missing-function-pkcs11.c: a PKCS#11 module built against a
 * function that no library provides, as a vendor module built for another
 * release of a library it uses would be. tests/meson.build links it twice:
 * the ordinary way, and -z now (binding its own symbols when loaded, as
 * Debian builds SoftHSM). Either must fail to load with a message
 * (/module-set/missing-function), never stop the program when the module
 * is first called. */
#include <p11-kit/pkcs11.h>

/* Defined nowhere: the module's link allows it (-z undefs). */
CK_RV imzala_test_function_nobody_defines (CK_FUNCTION_LIST_PTR_PTR list);

CK_RV C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list);

CK_RV
C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list)
{
  return imzala_test_function_nobody_defines (list);
}
