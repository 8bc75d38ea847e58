// Makes a CMS SignedData with PKI.js (an independent CMS implementation,
// from npm) for tests/test-verifier.c: İmzala must verify what another
// signer makes. Usage:
//   node pkijs-sign.mjs CERT.pem KEY.pem CONTENT OUT.p7s [--detached]
// The key is a PKCS#8 PEM P-256 key; the signature carries contentType,
// signingTime and messageDigest, signed with ECDSA and SHA-256.
import { webcrypto } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

const [certPath, keyPath, contentPath, outPath, flag] = process.argv.slice(2);
const detached = flag === "--detached";

pkijs.setEngine("node", new pkijs.CryptoEngine({ name: "node", crypto: webcrypto }));

function pemToDer(pem) {
  const base64 = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const der = Buffer.from(base64, "base64");
  return der.buffer.slice(der.byteOffset, der.byteOffset + der.byteLength);
}

const cert = pkijs.Certificate.fromBER(pemToDer(readFileSync(certPath, "utf8")));
const key = await webcrypto.subtle.importKey("pkcs8", pemToDer(readFileSync(keyPath, "utf8")),
                                             { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
const content = readFileSync(contentPath);
const contentBuffer = content.buffer.slice(content.byteOffset, content.byteOffset + content.byteLength);
const digest = await webcrypto.subtle.digest("SHA-256", contentBuffer);

const signedAttrs = new pkijs.SignedAndUnsignedAttributes({
  type: 0,
  attributes: [
    new pkijs.Attribute({ type: "1.2.840.113549.1.9.3",
                          values: [new asn1js.ObjectIdentifier({ value: "1.2.840.113549.1.7.1" })] }),
    new pkijs.Attribute({ type: "1.2.840.113549.1.9.5",
                          values: [new asn1js.UTCTime({ valueDate: new Date() })] }),
    new pkijs.Attribute({ type: "1.2.840.113549.1.9.4",
                          values: [new asn1js.OctetString({ valueHex: digest })] }),
  ],
});

const signedData = new pkijs.SignedData({
  version: 1,
  encapContentInfo: new pkijs.EncapsulatedContentInfo({
    eContentType: "1.2.840.113549.1.7.1",
    ...(detached ? {} : { eContent: new asn1js.OctetString({ valueHex: contentBuffer }) }),
  }),
  signerInfos: [
    new pkijs.SignerInfo({
      version: 1,
      sid: new pkijs.IssuerAndSerialNumber({ issuer: cert.issuer, serialNumber: cert.serialNumber }),
      signedAttrs,
    }),
  ],
  certificates: [cert],
});

await signedData.sign(key, 0, "SHA-256");

const contentInfo = new pkijs.ContentInfo({
  contentType: pkijs.ContentInfo.SIGNED_DATA,
  content: signedData.toSchema(true),
});
writeFileSync(outPath, Buffer.from(contentInfo.toSchema().toBER(false)));
