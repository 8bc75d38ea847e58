/* imzala-verify-page.h: İmza Doğrula — open or drop a signature (.p7s,
 * .imz) and, for a detached one, the signed file; the core's streaming
 * verifier (imzala_verifier_verify_file_async(), never HTTP here) validates
 * it, any size, in constant memory, and the page reports the outcome in
 * plain words, signer by signer, check by check. While it verifies, a
 * progress bar shows how much of the content was hashed ("Checking the
 * signature… 40 %"), beside Cancel (the verify.cancel action). Below,
 * the certification authorities the user added to the trust, with Add and
 * Remove. */
#pragma once

#include <adwaita.h>

#include "imzala-trust.h"
#include "imzala-verifier.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_VERIFY_PAGE (imzala_verify_page_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaVerifyPage, imzala_verify_page, IMZALA, VERIFY_PAGE, AdwBin)

/* Where trusted certificates are looked for when no trust was set: the
 * folders in IMZALA_TRUST_DIRS (separated by ':'), then
 * $XDG_DATA_HOME/imzala/trust and /etc/imzala/trust (PEM or DER files). */
ImzalaTrust        *imzala_verify_page_default_trust     (void);
void                imzala_verify_page_set_trust         (ImzalaVerifyPage *self,
                                                          ImzalaTrust      *trust);
/* Opens a signature and (nullable) the signed file, and verifies them. A
 * file named *.p7s, *.imz, *.p7m or *.pem is taken as the signature. */
void                imzala_verify_page_open              (ImzalaVerifyPage *self,
                                                          GFile            *signature,
                                                          GFile            *content);
void                imzala_verify_page_set_content       (ImzalaVerifyPage *self,
                                                          GFile            *content);
/* The last result, or NULL (none yet, busy, or the file could not be
 * read: see imzala_verify_page_get_error()). */
ImzalaVerification *imzala_verify_page_get_verification  (ImzalaVerifyPage *self);
const GError       *imzala_verify_page_get_error         (ImzalaVerifyPage *self);
gboolean            imzala_verify_page_get_busy          (ImzalaVerifyPage *self);
/* The report shown, as text. */
const char         *imzala_verify_page_get_report        (ImzalaVerifyPage *self);
gboolean            imzala_verify_page_is_signature_name (const char       *name);

/* Certification authorities the user adds ("Add…" beside the list of
 * them): reads @file (PEM or DER) in the core, in a thread, then shows its
 * subject and SHA-256 fingerprint and asks; on "add" it is copied into
 * $XDG_DATA_HOME/imzala/trust (imzala_trust_install_authority()) and what
 * is open is verified again. A file that holds no CA certificate is
 * refused with a message. */
void                imzala_verify_page_add_authority     (ImzalaVerifyPage *self,
                                                          GFile            *file);
/* TRUE while the file given to imzala_verify_page_add_authority() is being
 * read, before the question or the refusal is shown. */
gboolean            imzala_verify_page_is_reading_authority (ImzalaVerifyPage *self);
/* Removes an added authority by its fingerprint (lower-case hex SHA-256)
 * and verifies again. */
gboolean            imzala_verify_page_remove_authority  (ImzalaVerifyPage *self,
                                                          const char       *fingerprint,
                                                          GError          **error);

G_END_DECLS
