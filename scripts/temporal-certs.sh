#!/bin/sh
# Makes the certificates for mTLS to the Temporal server (docs/security/mtls.md): a local CA, the
# server's certificate and one client certificate per client. The one copy of these commands:
# docker-compose.yml's temporal-certs job mounts and runs this file, and `make cluster` runs it.
#
#   temporal-certs.sh DIR
#     DIR/server/   ca.pem, server.pem, server.key: the server's, for the frontend, internode
#                   traffic and its own internal client (the system worker presents server.pem)
#     DIR/clients/  ca.pem and <name>.pem, <name>.key for worker, api, ui and cli (the Temporal
#                   CLI, scripts/temporal-namespace.sh and scripts/deploy.ts)
#     DIR/operator/ ca.pem, operator.pem, operator.key: the codec server's (the operator API's,
#                   for review decisions), in a folder of its own so that it can be given its own
#                   certificate and no other client's
#   CERTS_DAYS        validity of a new set (default 365)
#   CERTS_RENEW_DAYS  a new set is made when a certificate expires within this many days (default 30)
#   CERTS_KEY_MODE    mode of the key files (default 600; compose's containers run as other users)
#
# Kept as they are while complete and valid: every file present, each certificate signed by
# ca.pem, its key its own, and none expiring within CERTS_RENEW_DAYS. Otherwise the whole set is
# made anew, CA included, so certificates you bring yourself are kept while they pass these
# checks. The CA's private key is deleted once the set is signed: nothing on the machine can then
# issue another certificate the server trusts. POSIX sh and openssl only.
set -eu
dir=${1:?usage: temporal-certs.sh DIR}
days=${CERTS_DAYS:-365}
renew_days=${CERTS_RENEW_DAYS:-30}
key_mode=${CERTS_KEY_MODE:-600}
clients="worker api ui cli"
# Clients whose files go in DIR/<name>/ alone (see above).
own_folder_clients="operator"

# The name every client checks the server's certificate against (TEMPORAL_TLS_SERVER_NAME).
server_names="DNS:temporal,DNS:localhost"

valid_pair() { # valid_pair CERT KEY: signed by the CA, not expiring soon, and KEY is its key
  [ -s "$1" ] && [ -s "$2" ] || return 1
  openssl verify -CAfile "$dir/server/ca.pem" "$1" >/dev/null 2>&1 || return 1
  openssl x509 -checkend $((renew_days * 86400)) -noout -in "$1" >/dev/null 2>&1 || return 1
  [ "$(openssl x509 -pubkey -noout -in "$1" 2>/dev/null)" = "$(openssl pkey -pubout -in "$2" 2>/dev/null)" ]
}

current() {
  [ -s "$dir/server/ca.pem" ] && cmp -s "$dir/server/ca.pem" "$dir/clients/ca.pem" || return 1
  openssl x509 -checkend $((renew_days * 86400)) -noout -in "$dir/server/ca.pem" >/dev/null 2>&1 || return 1
  valid_pair "$dir/server/server.pem" "$dir/server/server.key" || return 1
  for name in $clients; do valid_pair "$dir/clients/$name.pem" "$dir/clients/$name.key" || return 1; done
  for name in $own_folder_clients; do
    cmp -s "$dir/server/ca.pem" "$dir/$name/ca.pem" || return 1
    valid_pair "$dir/$name/$name.pem" "$dir/$name/$name.key" || return 1
  done
}

mkdir -p "$dir/server" "$dir/clients"
for name in $own_folder_clients; do mkdir -p "$dir/$name"; done
if current; then
  echo "temporal certificates: kept (valid, none expiring within $renew_days days)"
  exit 0
fi

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/openssl.cnf" <<EOF
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
[ ca ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = $server_names
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
# EC P-256 keys in PKCS#8: what the Go server, Node's TLS and the SDK's Rust core all read.
new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
new_key "$work/ca.key"
openssl req -new -x509 -config "$work/openssl.cnf" -extensions ca -key "$work/ca.key" \
  -subj "/CN=sessionflow local Temporal CA" -days "$days" -sha256 -out "$work/ca.pem"
sign() { # sign NAME EXTENSIONS COMMON_NAME
  new_key "$work/$1.key"
  openssl req -new -config "$work/openssl.cnf" -key "$work/$1.key" -subj "/CN=$3" -out "$work/$1.csr"
  openssl x509 -req -in "$work/$1.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days "$days" -sha256 -extfile "$work/openssl.cnf" -extensions "$2" -out "$work/$1.pem" 2>/dev/null
}
sign server server temporal
for name in $clients $own_folder_clients; do sign "$name" client "sessionflow-$name"; done
rm -f "$work/ca.key"

# Files replaced one by one (compose mounts each folder as a volume of its own).
install_file() { cp "$work/$1" "$dir/$2.tmp" && chmod "$3" "$dir/$2.tmp" && mv -f "$dir/$2.tmp" "$dir/$2"; }
install_file ca.pem server/ca.pem 644
install_file server.pem server/server.pem 644
install_file server.key server/server.key "$key_mode"
install_file ca.pem clients/ca.pem 644
for name in $clients; do
  install_file "$name.pem" "clients/$name.pem" 644
  install_file "$name.key" "clients/$name.key" "$key_mode"
done
for name in $own_folder_clients; do
  install_file ca.pem "$name/ca.pem" 644
  install_file "$name.pem" "$name/$name.pem" 644
  install_file "$name.key" "$name/$name.key" "$key_mode"
done
echo "temporal certificates: made a new CA and certificates, valid $days days"
