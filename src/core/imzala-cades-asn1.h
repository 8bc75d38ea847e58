/* imzala-cades-asn1.h: the CAdES-C and -X-L attribute types that OpenSSL 3.0
 * does not have (RFC 5126 §6.2 and §6.3, ETSI EN 319 122-1), as OpenSSL
 * ASN.1 templates: complete-certificate-references,
 * complete-revocation-references, certificate-values and
 * revocation-values. The RFC 5126 module has EXPLICIT TAGS.
 *
 * This is the one file that defines them: the maker (imzala-cades.c) and
 * the verifier use the same templates, so what one writes the other reads.
 */
#pragma once

#include <openssl/asn1t.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* OtherHashAlgAndValue ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier,
 *                                     hashValue OCTET STRING } */
typedef struct
{
  X509_ALGOR        *hash_algorithm;
  ASN1_OCTET_STRING *hash_value;
} IMZALA_OTHER_HASH_ALG_AND_VALUE;

/* OtherHash ::= CHOICE { sha1Hash OCTET STRING, otherHash OtherHashAlgAndValue } */
#define IMZALA_OTHER_HASH_SHA1  0
#define IMZALA_OTHER_HASH_OTHER 1
typedef struct
{
  int type;
  union
  {
    ASN1_OCTET_STRING               *sha1;
    IMZALA_OTHER_HASH_ALG_AND_VALUE *other;
  } d;
} IMZALA_OTHER_HASH;

/* IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber INTEGER }
 * (OpenSSL's ESS_ISSUER_SERIAL has no exported template.) */
typedef struct
{
  GENERAL_NAMES *issuer;
  ASN1_INTEGER  *serial;
} IMZALA_ISSUER_SERIAL;

/* OtherCertID ::= SEQUENCE { otherCertHash OtherHash,
 *                            issuerSerial IssuerSerial OPTIONAL } */
typedef struct
{
  IMZALA_OTHER_HASH    *cert_hash;
  IMZALA_ISSUER_SERIAL *issuer_serial;
} IMZALA_OTHER_CERT_ID;

/* CrlIdentifier ::= SEQUENCE { crlissuer Name, crlIssuedTime UTCTime,
 *                              crlNumber INTEGER OPTIONAL } */
typedef struct
{
  X509_NAME    *issuer;
  ASN1_UTCTIME *issued_time;
  ASN1_INTEGER *number;
} IMZALA_CRL_IDENTIFIER;

/* CrlValidatedID ::= SEQUENCE { crlHash OtherHash,
 *                               crlIdentifier CrlIdentifier OPTIONAL } */
typedef struct
{
  IMZALA_OTHER_HASH     *crl_hash;
  IMZALA_CRL_IDENTIFIER *crl_identifier;
} IMZALA_CRL_VALIDATED_ID;

/* OcspIdentifier ::= SEQUENCE { ocspResponderID ResponderID,
 *                               producedAt GeneralizedTime } */
typedef struct
{
  OCSP_RESPID          *responder_id;
  ASN1_GENERALIZEDTIME *produced_at;
} IMZALA_OCSP_IDENTIFIER;

/* OcspResponsesID ::= SEQUENCE { ocspIdentifier OcspIdentifier,
 *                                ocspRepHash OtherHash OPTIONAL } */
typedef struct
{
  IMZALA_OCSP_IDENTIFIER *identifier;
  IMZALA_OTHER_HASH      *response_hash;
} IMZALA_OCSP_RESPONSES_ID;

/* OpenSSL 3.0 has no stack of BasicOCSPResponse. */
DEFINE_STACK_OF (OCSP_BASICRESP)
DEFINE_STACK_OF (IMZALA_OTHER_CERT_ID)
DEFINE_STACK_OF (IMZALA_CRL_VALIDATED_ID)
DEFINE_STACK_OF (IMZALA_OCSP_RESPONSES_ID)

/* CRLListID ::= SEQUENCE { crls SEQUENCE OF CrlValidatedID } */
typedef struct
{
  STACK_OF (IMZALA_CRL_VALIDATED_ID) *crls;
} IMZALA_CRL_LIST_ID;

/* OcspListID ::= SEQUENCE { ocspResponses SEQUENCE OF OcspResponsesID } */
typedef struct
{
  STACK_OF (IMZALA_OCSP_RESPONSES_ID) *responses;
} IMZALA_OCSP_LIST_ID;

/* CrlOcspRef ::= SEQUENCE { crlids [0] CRLListID OPTIONAL,
 *                           ocspids [1] OcspListID OPTIONAL,
 *                           otherRev [2] OtherRevRefs OPTIONAL }
 * (otherRev is read as an opaque value and never written.) */
typedef struct
{
  IMZALA_CRL_LIST_ID  *crl_ids;
  IMZALA_OCSP_LIST_ID *ocsp_ids;
  ASN1_TYPE           *other;
} IMZALA_CRL_OCSP_REF;

DEFINE_STACK_OF (IMZALA_CRL_OCSP_REF)

/* CompleteCertificateRefs ::= SEQUENCE OF OtherCertID */
typedef STACK_OF (IMZALA_OTHER_CERT_ID) IMZALA_COMPLETE_CERTIFICATE_REFS;
/* CompleteRevocationRefs ::= SEQUENCE OF CrlOcspRef */
typedef STACK_OF (IMZALA_CRL_OCSP_REF) IMZALA_COMPLETE_REVOCATION_REFS;
/* CertificateValues ::= SEQUENCE OF Certificate */
typedef STACK_OF (X509) IMZALA_CERTIFICATE_VALUES;

/* RevocationValues ::= SEQUENCE { crlVals [0] SEQUENCE OF CertificateList OPTIONAL,
 *                                 ocspVals [1] SEQUENCE OF BasicOCSPResponse OPTIONAL,
 *                                 otherRevVals [2] OtherRevVals OPTIONAL } */
typedef struct
{
  STACK_OF (X509_CRL)       *crl_values;
  STACK_OF (OCSP_BASICRESP) *ocsp_values;
  ASN1_TYPE                 *other;
} IMZALA_REVOCATION_VALUES;

DECLARE_ASN1_FUNCTIONS (IMZALA_OTHER_HASH_ALG_AND_VALUE)
DECLARE_ASN1_FUNCTIONS (IMZALA_OTHER_HASH)
DECLARE_ASN1_FUNCTIONS (IMZALA_ISSUER_SERIAL)
DECLARE_ASN1_FUNCTIONS (IMZALA_OTHER_CERT_ID)
DECLARE_ASN1_FUNCTIONS (IMZALA_CRL_IDENTIFIER)
DECLARE_ASN1_FUNCTIONS (IMZALA_CRL_VALIDATED_ID)
DECLARE_ASN1_FUNCTIONS (IMZALA_OCSP_IDENTIFIER)
DECLARE_ASN1_FUNCTIONS (IMZALA_OCSP_RESPONSES_ID)
DECLARE_ASN1_FUNCTIONS (IMZALA_CRL_LIST_ID)
DECLARE_ASN1_FUNCTIONS (IMZALA_OCSP_LIST_ID)
DECLARE_ASN1_FUNCTIONS (IMZALA_CRL_OCSP_REF)
DECLARE_ASN1_FUNCTIONS (IMZALA_COMPLETE_CERTIFICATE_REFS)
DECLARE_ASN1_FUNCTIONS (IMZALA_COMPLETE_REVOCATION_REFS)
DECLARE_ASN1_FUNCTIONS (IMZALA_CERTIFICATE_VALUES)
DECLARE_ASN1_FUNCTIONS (IMZALA_REVOCATION_VALUES)

/* The attribute OIDs (RFC 5126, id-aa = 1.2.840.113549.1.9.16.2). */
#define IMZALA_OID_SIGNATURE_TIME_STAMP   "1.2.840.113549.1.9.16.2.14"
#define IMZALA_OID_CERTIFICATE_REFS       "1.2.840.113549.1.9.16.2.21"
#define IMZALA_OID_REVOCATION_REFS        "1.2.840.113549.1.9.16.2.22"
#define IMZALA_OID_CERTIFICATE_VALUES     "1.2.840.113549.1.9.16.2.23"
#define IMZALA_OID_REVOCATION_VALUES      "1.2.840.113549.1.9.16.2.24"
