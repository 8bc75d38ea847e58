/* imzala-file-signer.h: signing any file on a card, for the window's
 * Dosya İmzala page (issues 10 and 12).
 *
 * The file is never read into memory: its size is checked first (before
 * anything asks for the card), it is hashed as a stream in a worker thread
 * (imzala_cms_digest_stream()), the card signs that digest
 * (imzala_token_sign_cms_digest_async()), the level asked for is reached
 * (imzala_cades_extend_async(): the TSA, and for XL the chain's status),
 * and only then is the signature written next to the file: detached
 * (FILE.p7s) as it is, attached (FILE.imz) by a second pass over the file
 * (imzala_cms_write_attached(), which refuses a file that changed since it
 * was hashed). Writing goes to a temporary file in the same folder that is
 * renamed over the output on the main context, after a last look at the
 * cancellable: a failure or a cancel at any step leaves no file behind.
 * The PIN is dropped as soon as the card has signed. The window drives
 * this object; it never touches the card, the file or the network itself.
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

/* What the ImzalaFileSigner::progress signal reports. */
typedef enum
{
  IMZALA_FILE_SIGNER_STEP_READING,       /* hashing the file (done/total bytes) */
  IMZALA_FILE_SIGNER_STEP_SIGNING,       /* the card signs (no figures) */
  IMZALA_FILE_SIGNER_STEP_TIME_STAMPING, /* the TSA and the status (no figures) */
  IMZALA_FILE_SIGNER_STEP_WRITING,       /* writing the signature (done/total bytes) */
} ImzalaFileSignerStep;

ImzalaFileSigner *imzala_file_signer_new (void);

/* Where the signature of @input goes: "<input>.p7s" when @detached, else
 * "<input>.imz", in the same folder. */
GFile *imzala_file_signer_output_for (GFile    *input,
                                      gboolean  detached);

/* Whether a file of @size bytes can be signed so: a detached signature
 * has no limit, an attached one holds at most IMZALA_CMS_MAX_ATTACHED_SIZE
 * (IMZALA_ERROR_CONTENT_TOO_LARGE, with a sentence that says to sign it
 * without the content). Cheap: a page asks it as soon as a file is chosen,
 * long before the PIN. */
gboolean imzala_file_signer_check_size (guint64    size,
                                        gboolean   detached,
                                        GError   **error);

/* @tsa_url is needed for T and XL (https only); @tsa_ca_file (nullable) is
 * trusted for its HTTPS certificate besides the system store. The result
 * is the file written. While it runs, ::progress is emitted on the
 * caller's main context. Errors are IMZALA_ERROR (the token's, the TSA's,
 * the status's, IMZALA_ERROR_CONTENT_TOO_LARGE, IMZALA_ERROR_CONTENT_MISMATCH
 * for a file that changed while it was signed, IMZALA_ERROR_FAILED for a
 * file that cannot be read or written) or G_IO_ERROR_CANCELLED. One signing
 * at a time per object (the signal does not say which one it is about). */
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
