/* imzala-test-tsa.h: a real RFC 3161 time-stamp authority for tests.
 *
 * imzala_test_tsa_new() makes, at test time with the openssl command, a
 * root CA, a TSA certificate under it (critical EKU timeStamping) and an
 * HTTPS server certificate for 127.0.0.1, then serves POST /tsa over
 * HTTPS from a SoupServer on a thread of its own (so that a test may run
 * imzala-cli synchronously meanwhile). Each query goes through
 * `openssl ts -reply`: the tokens are OpenSSL's, not the test's.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  IMZALA_TEST_TSA_OK,
  IMZALA_TEST_TSA_HTTP_ERROR,   /* 500, no reply */
  IMZALA_TEST_TSA_GARBAGE,      /* 200 application/timestamp-reply, not DER */
  IMZALA_TEST_TSA_OTHER_QUERY,  /* a valid reply, to another query (imprint, nonce) */
  IMZALA_TEST_TSA_REJECTION,    /* a TimeStampResp with status rejection */
  IMZALA_TEST_TSA_SILENT,       /* never answers */
} ImzalaTestTsaMode;

typedef struct _ImzalaTestTsa ImzalaTestTsa;

ImzalaTestTsa *imzala_test_tsa_new       (void);
void           imzala_test_tsa_free      (ImzalaTestTsa     *self);
/* https://127.0.0.1:PORT/tsa */
const char    *imzala_test_tsa_get_url   (ImzalaTestTsa     *self);
/* The CA of the HTTPS certificate and of the TSA certificate (PEM). */
const char    *imzala_test_tsa_get_ca    (ImzalaTestTsa     *self);
/* The TSA's own certificate (PEM), for openssl ts -verify -untrusted. */
const char    *imzala_test_tsa_get_cert  (ImzalaTestTsa     *self);
const char    *imzala_test_tsa_get_dir   (ImzalaTestTsa     *self);
void           imzala_test_tsa_set_mode  (ImzalaTestTsa     *self,
                                          ImzalaTestTsaMode  mode);
guint          imzala_test_tsa_count     (ImzalaTestTsa     *self);

/* Issue 10: signs the tokens with @cert_pem and @key_pem (files; a TSA
 * certificate of another PKI, e.g. one of imzala-test-pki.c that publishes
 * its status) instead of the TSA's own, and has
 * imzala_test_tsa_openssl_verify() trust @ca_pem (its chain) for them.
 * The HTTPS server keeps its certificate. Call it before any query. */
void           imzala_test_tsa_set_signer (ImzalaTestTsa *self,
                                           const char    *cert_pem,
                                           const char    *key_pem,
                                           const char    *ca_pem);

/* Runs `openssl ts -verify -data DATA -in TOKEN -token_in -CAfile CA
 * -untrusted TSA`; TRUE when it says OK. */
gboolean       imzala_test_tsa_openssl_verify (ImzalaTestTsa *self,
                                               GBytes        *token,
                                               GBytes        *data);

/* The first signature-time-stamp token in the SignerInfo of @cms (DER),
 * read with OpenSSL's CMS API, or NULL. */
GBytes        *imzala_test_cms_get_time_stamp_token (GBytes *cms);

G_END_DECLS
