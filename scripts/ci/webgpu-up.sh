#!/usr/bin/env bash
# A software GPU for the webgpu tests (test/webgpu.test.ts): SwiftShader, the Vulkan driver inside Debian's
# chromium package, with the Vulkan loader from libvulkan1. Prints the exports for the tests (source them):
# VK_ICD_FILENAMES pointing at SwiftShader's manifest, and VDS_TEST_REQUIRE_WEBGPU=1 so a missing adapter
# fails the tests instead of skipping them. No daemon: nothing to stop.
set -euo pipefail
ICD=/usr/lib/chromium/vk_swiftshader_icd.json
if [ ! -f "$ICD" ] || ! /sbin/ldconfig -p | grep -q 'libvulkan\.so\.1 '; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium libvulkan1 >/dev/null
fi
[ -f "$ICD" ] || { echo "webgpu-up: $ICD missing after installing chromium" >&2; exit 1; }
echo "export VK_ICD_FILENAMES=$ICD"
echo "export VDS_TEST_REQUIRE_WEBGPU=1"
# SwiftShader asks for a Wayland runtime directory it never uses; give it one so it does not complain
echo "export XDG_RUNTIME_DIR=\${XDG_RUNTIME_DIR:-$(mktemp -d /tmp/vds-ci-xdg.XXXXXX)}"
