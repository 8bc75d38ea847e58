/* imzala-file-signer.h: signing any file on a card, for the window's
 * Dosya İmzala page (issue 10).
 *
 * Reads the file (at most 64 MiB, what the CMS builder signs), signs it on
 * the token as CAdES-BES, attached (FILE.imz) or detached (FILE.p7s),
 * reaches the level asked for (imzala_cades_extend_async(): the TSA, and
 * for XL the chain's status), and only then writes the signature next to
 * the file, atomically: a failure at any step leaves no file behind. The
 * PIN is dropped as soon as the card has signed. The window drives this
 * object; it never touches the card, the file or the network itself.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-cades.h"
#include "imzala-cms.h"
#include "imzala-secret.h"
#include "imzala-token.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_FILE_SIGNER (imzala_file_signer_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaFileSigner, imzala_file_signer, IMZALA, FILE_SIGNER, GObject)

ImzalaFileSigner *imzala_file_signer_new (void);

/* Where the signature of @input goes: "<input>.p7s" when @detached, else
 * "<input>.imz", in the same folder. */
GFile *imzala_file_signer_output_for (GFile    *input,
                                      gboolean  detached);

/* @tsa_url is needed for T and XL (https only); @tsa_ca_file (nullable) is
 * trusted for its HTTPS certificate besides the system store. The result
 * is the file written. Errors are IMZALA_ERROR (the token's, the TSA's, the
 * status's, IMZALA_ERROR_FAILED for a file that cannot be read or written)
 * or G_IO_ERROR_CANCELLED. */
void   imzala_file_signer_sign_async  (ImzalaFileSigner    *self,
                                       ImzalaToken         *token,
                                       ImzalaCertificate   *certificate,
                                       ImzalaSecret        *pin,
                                       GFile               *input,
                                       gboolean             detached,
                                       ImzalaCadesLevel     level,
                                       const char          *tsa_url,
                                       const char          *tsa_ca_file,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
GFile *imzala_file_signer_sign_finish (ImzalaFileSigner    *self,
                                       GAsyncResult        *result,
                                       GError             **error);

G_END_DECLS
