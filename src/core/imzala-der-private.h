/* imzala-der-private.h: reading a CMS or a CRL given as DER or PEM, and
 * writing DER headers for the places that put a CMS back together around
 * bytes they keep as they are (imzala-cms.c, imzala-verifier-stream.c,
 * imzala-verifier-parse.c). Not API. */
#pragma once

#include <glib.h>
#include <openssl/cms.h>

G_BEGIN_DECLS

/* The size of the header (identifier and definite length) of a DER value
 * of @length bytes, with a one-octet identifier. */
guint64 imzala_der_header_size   (guint64     length);
/* Appends that header, identifier octet @identifier, to @out. */
void    imzala_der_append_header (GByteArray *out,
                                  guint8      identifier,
                                  guint64     length);

/* Whether @data is PEM: "-----BEGIN" after any white space. */
gboolean         imzala_der_is_pem   (const guint8 *data,
                                      gsize         size);
/* The CMS in @data, PEM or DER; NULL when it is neither, or when bytes
 * follow the DER (nothing checked would cover them). */
CMS_ContentInfo *imzala_der_read_cms (const guint8 *data,
                                      gsize         size);

G_END_DECLS
