/* imzala-vendor-library.c: a library of the fault module's own, standing
 * for what vendor modules bring with them (an OpenSSL or a libstdc++ of
 * another version). The test programs define the same symbol; the
 * fault module's "vendor-library" word says which of the two its call
 * reached (tests/test-module-set.c, /module-set/own-libraries-first). */

const char *imzala_vendor_library_name (void);

const char *
imzala_vendor_library_name (void)
{
  return "vendor library";
}
