#pragma once

#include <adwaita.h>

#include "imzala-core.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_FILE_SIGN_PAGE (imzala_file_sign_page_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaFileSignPage, imzala_file_sign_page, IMZALA, FILE_SIGN_PAGE, AdwBin)

/* Dosya İmzala (issue 10): any file signed on the card, attached (.imz) or
 * detached (.p7s), at the level chosen. The page drives an
 * ImzalaFileSigner; it never touches the card, the file or the network.
 * A file too large for an attached signature is refused when it is
 * chosen. While a file is signed, a progress bar says which step it is at
 * ("Reading the file… 40 %", the card, the time-stamp, the writing) with a
 * Cancel button; it is shown for every file, small ones pass it quickly. */
void   imzala_file_sign_page_set_token_list (ImzalaFileSignPage *self,
                                             ImzalaTokenList    *token_list);
void   imzala_file_sign_page_set_file       (ImzalaFileSignPage *self,
                                             GFile              *file);
/* The signature written by the last signing, or NULL. */
GFile *imzala_file_sign_page_get_output     (ImzalaFileSignPage *self);
void   imzala_file_sign_page_reset          (ImzalaFileSignPage *self);
/* The CA file (PEM, DER or PKCS#7; NULL: none) the TSA's HTTPS certificate is checked
 * against besides the system store, as the row's chooser sets it; kept in
 * the tsa-ca-file setting. */
void   imzala_file_sign_page_set_tsa_ca_file (ImzalaFileSignPage *self,
                                              const char         *path);
/* TRUE while a file is signed or its size is being read. */
gboolean imzala_file_sign_page_get_busy     (ImzalaFileSignPage *self);

G_END_DECLS
