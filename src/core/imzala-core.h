/* imzala-core.h: everything libimzala-core offers, for src/cli, src/gui and
 * src/portal. */
#pragma once

#include "imzala-enum-types.h"
#include "imzala-error.h"
#include "imzala-secret.h"
#include "imzala-tckn.h"
#include "imzala-certificate.h"
#include "imzala-module.h"
#include "imzala-token.h"
#include "imzala-module-set.h"
#include "imzala-token-list.h"
#include "imzala-cms.h"
#include "imzala-request.h"
#include "imzala-portal.h"
#include "imzala-json.h"
#include "imzala-portal-answer.h"
#include "imzala-portal-client.h"
#include "imzala-signing-job.h"
#include "imzala-reader.h"
#include "imzala-reader-monitor.h"
#include "imzala-doctor.h"
#include "imzala-card-cause.h"
