/* imzala-der-private.h: writing DER headers, for the places that put a
 * CMS back together around bytes they keep as they are (imzala-cms.c,
 * imzala-verifier-stream.c, imzala-verifier-parse.c). Not API. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The size of the header (identifier and definite length) of a DER value
 * of @length bytes, with a one-octet identifier. */
guint64 imzala_der_header_size   (guint64     length);
/* Appends that header, identifier octet @identifier, to @out. */
void    imzala_der_append_header (GByteArray *out,
                                  guint8      identifier,
                                  guint64     length);

G_END_DECLS
