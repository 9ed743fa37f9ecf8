#!/bin/sh
# Run by the ipfs/kubo image (scripts in /container-init.d, before the daemon
# starts): the RPC API must answer other containers (IPFS_API=/dns/ipfs/tcp/5001)
# and the gateway the published port. Set here so it holds whatever the
# image's defaults are. The API port is not published outside the compose network.
set -e
ipfs config Addresses.API /ip4/0.0.0.0/tcp/5001
ipfs config Addresses.Gateway /ip4/0.0.0.0/tcp/8080
