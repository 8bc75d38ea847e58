#pragma once

#include <adwaita.h>

#include "imzala-core.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_FILE_SIGN_PAGE (imzala_file_sign_page_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaFileSignPage, imzala_file_sign_page, IMZALA, FILE_SIGN_PAGE, AdwBin)

/* Dosya İmzala (issue 10): any file signed on the card, attached (.imz) or
 * detached (.p7s), at the level chosen. The page drives an
 * ImzalaFileSigner; it never touches the card, the file or the network. */
void   imzala_file_sign_page_set_token_list (ImzalaFileSignPage *self,
                                             ImzalaTokenList    *token_list);
void   imzala_file_sign_page_set_file       (ImzalaFileSignPage *self,
                                             GFile              *file);
/* The signature written by the last signing, or NULL. */
GFile *imzala_file_sign_page_get_output     (ImzalaFileSignPage *self);
void   imzala_file_sign_page_reset          (ImzalaFileSignPage *self);

G_END_DECLS
