#define G_LOG_DOMAIN "imzala-pkcs11"

#include "config.h"

#include <string.h>

#include "imzala-module.h"
#include "imzala-pkcs11-private.h"

struct _ImzalaModule
{
  GObject parent_instance;

  CK_FUNCTION_LIST *functions;
  CK_INFO info;
  gboolean unmanaged;
  gboolean finalize;
  gpointer dl_handle;

  char *name;
  char *path;
  char *description;
  char *manufacturer;
  char *version;

  GRecMutex lock;
};

G_DEFINE_FINAL_TYPE (ImzalaModule, imzala_module, G_TYPE_OBJECT)

static void
imzala_module_finalize (GObject *object)
{
  ImzalaModule *self = IMZALA_MODULE (object);

  if (self->functions != NULL)
    {
      CK_RV rv;

      imzala_module_lock (self);
      if (self->unmanaged)
        {
          /* The library stays mapped: vendor modules often leave reader
           * monitoring threads behind after C_Finalize, and unmapping their
           * code under them crashes the process. */
          rv = self->finalize ? self->functions->C_Finalize (NULL) : CKR_OK;
        }
      else
        {
          rv = p11_kit_module_finalize (self->functions);
          p11_kit_module_release (self->functions);
        }
      imzala_module_unlock (self);
      if (rv != CKR_OK)
        g_debug ("C_Finalize of %s: %s", self->name, p11_kit_strerror (rv));
      self->functions = NULL;
    }

  g_free (self->name);
  g_free (self->path);
  g_free (self->description);
  g_free (self->manufacturer);
  g_free (self->version);
  g_rec_mutex_clear (&self->lock);

  G_OBJECT_CLASS (imzala_module_parent_class)->finalize (object);
}

static void
imzala_module_class_init (ImzalaModuleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = imzala_module_finalize;
}

static void
imzala_module_init (ImzalaModule *self)
{
  g_rec_mutex_init (&self->lock);
}

char *
imzala_pkcs11_padded_to_utf8 (const CK_UTF8CHAR *text,
                              gsize              length)
{
  g_autofree char *raw = p11_kit_space_strdup (text, length);

  return g_utf8_make_valid (raw, -1);
}

static ImzalaModule *
imzala_module_new (CK_FUNCTION_LIST *functions,
                   const char       *name,
                   const char       *path)
{
  ImzalaModule *self = g_object_new (IMZALA_TYPE_MODULE, NULL);
  CK_RV rv;

  self->functions = functions;
  self->name = g_strdup (name);
  self->path = g_strdup (path);

  imzala_module_lock (self);
  rv = functions->C_GetInfo (&self->info);
  imzala_module_unlock (self);

  if (rv == CKR_OK)
    {
      self->description = imzala_pkcs11_padded_to_utf8 (self->info.libraryDescription,
                                                        sizeof self->info.libraryDescription);
      self->manufacturer = imzala_pkcs11_padded_to_utf8 (self->info.manufacturerID,
                                                         sizeof self->info.manufacturerID);
      self->version = g_strdup_printf ("%u.%u",
                                       self->info.libraryVersion.major,
                                       self->info.libraryVersion.minor);
    }
  else
    {
      /* Only cosmetic: the module still works without its description. */
      g_debug ("C_GetInfo of %s: %s", name, p11_kit_strerror (rv));
      memset (&self->info, 0, sizeof self->info);
      self->description = g_strdup ("");
      self->manufacturer = g_strdup ("");
      self->version = g_strdup ("");
    }

  return self;
}

ImzalaModule *
imzala_module_new_managed (CK_FUNCTION_LIST *functions,
                           const char       *name,
                           const char       *path)
{
  g_return_val_if_fail (functions != NULL, NULL);

  return imzala_module_new (functions, name, path);
}

ImzalaModule *
imzala_module_new_unmanaged (gpointer          dl_handle,
                             CK_FUNCTION_LIST *functions,
                             const char       *name,
                             const char       *path,
                             gboolean          finalize)
{
  ImzalaModule *self;

  g_return_val_if_fail (functions != NULL, NULL);

  self = imzala_module_new (functions, name, path);
  self->unmanaged = TRUE;
  self->finalize = finalize;
  self->dl_handle = dl_handle;
  return self;
}

CK_FUNCTION_LIST *
imzala_module_get_functions (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  return self->functions;
}

const CK_INFO *
imzala_module_get_info (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  return &self->info;
}

void
imzala_module_lock (ImzalaModule *self)
{
  g_rec_mutex_lock (&self->lock);
}

void
imzala_module_unlock (ImzalaModule *self)
{
  g_rec_mutex_unlock (&self->lock);
}

const char *
imzala_module_get_name (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  return self->name;
}

const char *
imzala_module_get_path (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  return self->path;
}

const char *
imzala_module_get_description (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  return self->description;
}

const char *
imzala_module_get_manufacturer (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  return self->manufacturer;
}

const char *
imzala_module_get_version (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), NULL);
  return self->version;
}

gboolean
imzala_module_is_unmanaged (ImzalaModule *self)
{
  g_return_val_if_fail (IMZALA_IS_MODULE (self), FALSE);
  return self->unmanaged;
}
