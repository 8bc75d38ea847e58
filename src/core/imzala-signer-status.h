/* imzala-signer-status.h: the status of one's own certificate, asked on the
 * signing side.
 *
 * Before the PIN is asked, the signing job checks the chosen certificate's
 * status at its AIA OCSP responder (no CRL: a status check must not
 * download megabytes while the user waits): a revoked certificate is
 * refused before the card is touched; an unreachable responder, or a
 * certificate that names none, is said and the user may go on. The issuer
 * comes from the certificates at hand (the card's CA certificates), else
 * from the certificate's AIA caIssuers URL. A CAdES-X-L signature uses the
 * same issuer lookup to walk the signer's chain (imzala-cades-extend.c).
 * Blocking functions run in a thread; no PKCS#11, no GTK.
 */
#pragma once

#include <gio/gio.h>
#include <openssl/x509.h>

#include "imzala-cert-status.h"
#include "imzala-certificate.h"

G_BEGIN_DECLS

/* The certificate in @candidates (nullable) that issued @cert (name and
 * signature), else, when @fetch, the one at @cert's AIA caIssuers URL
 * (size and time capped, TLS verified against the system store or
 * @extra_ca, nullable: the portal's CA). NULL when neither; a new
 * reference otherwise. Blocking. */
X509 *imzala_signer_status_find_issuer (X509            *cert,
                                        STACK_OF (X509) *candidates,
                                        gboolean         fetch,
                                        GTlsDatabase    *extra_ca,
                                        GCancellable    *cancellable);

/* Whether @cert names an OCSP responder in its AIA. */
gboolean imzala_signer_status_has_responder (X509 *cert);

/* The OCSP status of @cert now. Never NULL: UNKNOWN with a translated
 * reason when the issuer is not known, the certificate names no OCSP
 * responder, or the responder cannot be reached or trusted. An https
 * responder is trusted through the system store or @extra_ca (nullable:
 * the portal's CA, whose demo PKI serves OCSP over https). Blocking. */
ImzalaCertStatus *imzala_signer_status_check (X509            *cert,
                                              STACK_OF (X509) *candidates,
                                              GTlsDatabase    *extra_ca,
                                              GCancellable    *cancellable);

/* imzala_signer_status_check() for @certificate in a thread, with
 * @candidates (ImzalaCertificate, nullable: the other certificates on the
 * card) as the first places to look for the issuer, and @extra_ca_file
 * (nullable: the portal's CA file) as @extra_ca, read in that thread; an
 * unreadable one leaves only the system store. Fails only when
 * cancelled. */
void              imzala_signer_status_check_async  (ImzalaCertificate   *certificate,
                                                     GPtrArray           *candidates,
                                                     const char          *extra_ca_file,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
ImzalaCertStatus *imzala_signer_status_check_finish (GAsyncResult        *result,
                                                     GError             **error);

G_END_DECLS
