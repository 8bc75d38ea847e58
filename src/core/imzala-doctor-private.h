/* imzala-doctor-private.h: what the files of ImzalaDoctor share.
 *
 * ImzalaDoctor is one class in two files, split by job: imzala-doctor.c
 * (the facts, the object and gathering them) and imzala-doctor-render.c
 * (masking, the problems and their advice, the text and the JSON). Only
 * they include this header.
 */
#pragma once

#include "imzala-doctor.h"

G_BEGIN_DECLS

struct _ImzalaDoctor
{
  GObject parent_instance;

  GDateTime             *now;
  char                  *os;
  GPtrArray             *versions;     /* char *, "component\tversion" */
  ImzalaDoctorPcscState  pcsc_state;
  char                  *pcsc_error;
  GPtrArray             *readers;      /* ImzalaDoctorReaderFacts */
  GPtrArray             *modules;      /* ImzalaDoctorModuleFacts */
  char                  *modules_error;
  GPtrArray             *tokens;       /* ImzalaDoctorTokenFacts */
  GPtrArray             *token_objects; /* ImzalaToken, to match readers */
  char                  *tokens_error;
  char                  *portal_url;
  GDateTime             *portal_time;
  GDateTime             *portal_local_time;
  char                  *portal_error;
};

G_END_DECLS
