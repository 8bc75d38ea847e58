#!/bin/bash
# nginx-front.sh SITE DIR PORTAL_PORT EDGE_PORT REDIRECT_PORT PORTAL_CA:
# the configuration of an nginx in front of a portal on the loopback, made
# from the site the package ships (docs/deploy/nginx-imzala-portal.conf),
# changed only in what a test cannot have: ports on 127.0.0.1 instead of 80
# and 443, the certificate paths, the portal's port. Used by
# tests/test-nginx.sh and tools/bench.
#
# Writes into DIR: edge-ca.pem (the CA that clients of nginx trust),
# edge.pem and edge.key (nginx's certificate for localhost), site.conf (the
# changed site) and nginx.conf (a minimal nginx.conf around it: one process
# in the foreground, everything under DIR). Start nginx with
#   nginx -p DIR -c DIR/nginx.conf -e DIR/error.log
set -euo pipefail

SITE=$1 DIR=$2 PORTAL_PORT=$3 EDGE_PORT=$4 REDIRECT_PORT=$5 PORTAL_CA=$6
mkdir -p "$DIR"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=Edge Test CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
  -keyout "$DIR/edge-ca.key" -out "$DIR/edge-ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout "$DIR/edge.key" -out "$DIR/edge.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$DIR/edge.ext"
openssl x509 -req -in "$DIR/edge.csr" -CA "$DIR/edge-ca.pem" -CAkey "$DIR/edge-ca.key" -CAcreateserial \
  -days 2 -extfile "$DIR/edge.ext" -out "$DIR/edge.pem" 2>/dev/null

sed -e "s#listen 80;#listen 127.0.0.1:$REDIRECT_PORT;#" \
    -e "s#listen \[::\]:80;##" \
    -e "s#listen 443 ssl http2;#listen 127.0.0.1:$EDGE_PORT ssl http2;#" \
    -e "s#listen \[::\]:443 ssl http2;##" \
    -e "s#/etc/ssl/certs/portal.example.org.pem#$DIR/edge.pem#" \
    -e "s#/etc/ssl/private/portal.example.org.key#$DIR/edge.key#" \
    -e "s#/etc/nginx/imzala-portal-ca.pem#$PORTAL_CA#" \
    -e "s#server 127.0.0.1:8443;#server 127.0.0.1:$PORTAL_PORT;#" \
    "$SITE" > "$DIR/site.conf"

cat > "$DIR/nginx.conf" <<CONF
daemon off;
master_process off;
pid $DIR/nginx.pid;
error_log $DIR/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $DIR/body;
    proxy_temp_path $DIR/proxy;
    fastcgi_temp_path $DIR/fastcgi;
    uwsgi_temp_path $DIR/uwsgi;
    scgi_temp_path $DIR/scgi;
    include $DIR/site.conf;
}
CONF
