/* imzala-doctor-page.h: Tanılama — the support report of ImzalaDoctor
 * (the same as `imzala-cli doctor`), and Raporu Kopyala to copy it. */
#pragma once

#include <adwaita.h>

#include "imzala-reader-monitor.h"
#include "imzala-token-list.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_DOCTOR_PAGE (imzala_doctor_page_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaDoctorPage, imzala_doctor_page, IMZALA, DOCTOR_PAGE, AdwBin)

/* The cards and modules to report on; @load_error: why no module at all
 * could be loaded (nullable). */
void        imzala_doctor_page_set_token_list     (ImzalaDoctorPage    *self,
                                                   ImzalaTokenList     *token_list,
                                                   const GError        *load_error);
/* pcscd and the readers (NULL: not watched). */
void        imzala_doctor_page_set_reader_monitor (ImzalaDoctorPage    *self,
                                                   ImzalaReaderMonitor *monitor);
/* Gathers the facts again and shows the new report when they are in. */
void        imzala_doctor_page_refresh            (ImzalaDoctorPage    *self);
/* The report shown, or NULL while the first one is being made. */
const char *imzala_doctor_page_get_report         (ImzalaDoctorPage    *self);

G_END_DECLS
