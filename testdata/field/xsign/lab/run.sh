#!/bin/sh
# run.sh: servers, capture, clients.
cd /tmp/xsign-lab
pids=""
while read port chain client roots; do
  openssl s_server -accept 127.0.0.1:$port -cert leaf.pem -key leaf.key -cert_chain chain_$chain.pem -tls1_2 -www -quiet >/dev/null 2>&1 &
  pids="$pids $!"
done < rows.txt
tcpdump -i lo -U -s 0 -w all.pcap 'tcp portrange 9541-9590' >/dev/null 2>&1 &
tp=$!
sleep 2
: > results.txt
while read port chain client roots; do
  r=r_$roots.pem
  case $client in
  go) out=$(./gocl $port $r 2>&1) ;;
  openssl) out=$(openssl s_client -connect 127.0.0.1:$port -servername good.test -CAfile $r -verify_return_error -verify_hostname good.test </dev/null 2>&1 | grep -E 'verify error|Verify return code|error:' | head -3 | tr '\n' ' ') ;;
  curl) out=$(curl -sS --cacert $r --resolve good.test:$port:127.0.0.1 https://good.test:$port/ -o /dev/null -w 'OK %{http_code}' 2>&1) ;;
  gnutls) out=$(gnutls-cli --x509cafile $r -p $port --sni-hostname good.test --verify-hostname good.test 127.0.0.1 </dev/null 2>&1 | grep -iE 'verif|error|fatal|Handshake was completed' | head -4 | tr '\n' ' ') ;;
  python) out=$(python3 pyclient.py $port $r 2>&1) ;;
  esac
  echo "$port	$chain	$client	$roots	$out" >> results.txt
  sleep 0.3
done < rows.txt
sleep 1
kill $tp
for p in $pids; do kill $p; done
wait 2>/dev/null
