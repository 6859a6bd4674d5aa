#!/usr/bin/env bash
# Installs, upgrades or removes the lobby kiosk on Raspberry Pi OS Lite (Bookworm, aarch64).
# Every step is idempotent: running it again repairs what is missing and changes nothing
# else. docs/appliance.md says what it does and why.
#
#   sudo systemd/install.sh                       install (or repair) from this checkout
#   sudo systemd/install.sh --upgrade             install this version beside the running one,
#                                                 switch, run kiosk doctor, roll back if it fails
#   sudo systemd/install.sh --uninstall [--purge] remove all but the state directory (--purge: it too)
#   systemd/install.sh --root DIR --dry-run ...   write every file under DIR, print each system
#                                                 command ("+ ...") instead of running it
# Options: --source PATH  the project (a checkout or a wheel; default: this checkout)
#          --version V    the version's name under /opt/kiosk (default: the source's)
# Test seam: KIOSK_INSTALL_DOCTOR=PROGRAM replaces the upgrade's health check (systemctl start
# kiosk-doctor.service); it is run, with the new version as argument, even under --dry-run.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# What a kiosk needs at run time: Python, pcscd (the card encoder), time sync (the check-in
# day), what SDL's KMS/DRM video loads (the Kivy wheel brings its own SDL2, built with
# KMSDRM), mtdev (touch), zbar (QR decoding), the fonts: a CJK one for the printer, Noto
# Sans CJK and the Material icons for the screen.
RUNTIME_PACKAGES=(
  python3 python3-venv pcscd systemd-timesyncd
  libgles2 libegl1 libgl1 libgbm1 libdrm2 libmtdev1 libzbar0 libpcsclite1 fonts-wqy-microhei
  fonts-noto-core fonts-noto-cjk fonts-material-design-icons-iconfont
  espeak-ng alsa-utils
)
# Building the packages that have no aarch64 wheel on PyPI: pyscard (swig, PC/SC headers) and
# zxing-cpp (a CMake build that may fetch pybind11 with git). tests/appliance checks the list.
BUILD_PACKAGES=(build-essential python3-dev swig libpcsclite-dev cmake git)
KIOSK_GROUPS=(video render input dialout plugdev lp audio)
# Root-only secret files, handed to the service by LoadCredential=, each named after its
# setting (the secrets `kiosk config template` marks) plus the outbox key (kiosk/sealing.py)
CREDENTIALS=(backend.token qr.signing_key devices.encoder.transport_key
  devices.encoder.site_key_a devices.encoder.site_key_b operator.pin_hash remote.password
  remote.command_secret remote.fleet_key amenities.token outbox-key
  devices.payment.zvt_password)
UNITS=(kiosk.service kiosk-out-of-order.service kiosk-doctor.service)
# A login prompt on a console would be a shell for whoever plugs in a keyboard.
MASKED=(getty@tty1.service getty@tty2.service getty@tty3.service getty@tty4.service
  getty@tty5.service getty@tty6.service serial-getty@ttyAMA0.service serial-getty@ttyS0.service
  ctrl-alt-del.target)
KERNEL_ARGS=(consoleblank=0 vt.global_cursor_default=0)  # no screen blanking, no cursor

OPT=/opt/kiosk
ETC=/etc/kiosk
STATE=/var/lib/kiosk
# file in this folder -> where it goes
declare -A SYSTEM_FILES=(
  [kiosk.tmpfiles]=/etc/tmpfiles.d/kiosk.conf
  [logind-kiosk.conf]=/etc/systemd/logind.conf.d/kiosk.conf
  [sysctl-kiosk.conf]=/etc/sysctl.d/90-kiosk.conf
  [udev-kiosk.rules]=/etc/udev/rules.d/70-kiosk.rules
)

ROOT=""
DRY_RUN=0
MODE=install
PURGE=0
SOURCE="$HERE/.."
VERSION=""

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "==> $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --upgrade) MODE=upgrade ;;
    --uninstall) MODE=uninstall ;;
    --purge) PURGE=1 ;;
    --dry-run) DRY_RUN=1 ;;
    --root) ROOT=${2:?--root needs a directory}; shift ;;
    --source) SOURCE=${2:?--source needs a path}; shift ;;
    --version) VERSION=${2:?--version needs a value}; shift ;;
    -h|--help) usage ;;
    *) echo "unknown option: $1" >&2; usage 2 ;;
  esac
  shift
done
if [ -n "$ROOT" ]; then
  # Files go under DIR, but commands cannot run there: --root is for --dry-run only.
  [ "$DRY_RUN" -eq 1 ] || die "--root is only for --dry-run"
  mkdir -p "$ROOT"
  ROOT=$(cd "$ROOT" && pwd)
fi
[ "$DRY_RUN" -eq 1 ] || [ "$(id -u)" -eq 0 ] || die "run as root (sudo), or with --dry-run"
[ "$PURGE" -eq 0 ] || [ "$MODE" = uninstall ] || die "--purge goes with --uninstall"

# A system command: run it, or print it under --dry-run.
run() {
  if [ "$DRY_RUN" -eq 1 ]; then
    printf '+'; printf ' %q' "$@"; printf '\n'
  else
    "$@"
  fi
}

# A path on the target system (under --root when given).
at() { printf '%s%s' "$ROOT" "$1"; }

# Copy SRC to DEST (a target path) with MODE, atomically, if its content differs.
put() {
  local src=$1 dest mode=$3
  dest=$(at "$2")
  mkdir -p "$(dirname "$dest")"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    chmod "$mode" "$dest"
    return
  fi
  install -m "$mode" "$src" "$dest.new"
  mv -f "$dest.new" "$dest"
}

# Point $OPT/current at version $1: a new link renamed over the old one, never a moment
# without one.
switch_to() {
  ln -sfn "$1" "$(at "$OPT/current.new")"
  mv -T "$(at "$OPT/current.new")" "$(at "$OPT/current")"
}

current_version() {
  local link
  link=$(at "$OPT/current")
  if [ -L "$link" ]; then readlink "$link"; fi
}

source_version() {
  case "$SOURCE" in
    *.whl) basename "$SOURCE" | cut -d- -f2 ;;
    *) python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' \
         "$SOURCE/pyproject.toml" ;;
  esac
}

install_packages() {
  say "system packages"
  run apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${RUNTIME_PACKAGES[@]}" "${BUILD_PACKAGES[@]}"
}

create_user() {
  say "user kiosk, groups ${KIOSK_GROUPS[*]}"
  local group
  for group in "${KIOSK_GROUPS[@]}"; do
    if [ "$DRY_RUN" -eq 1 ] || ! getent group "$group" >/dev/null; then
      run groupadd --system -f "$group"
    fi
  done
  if [ "$DRY_RUN" -eq 1 ] || ! id kiosk >/dev/null 2>&1; then
    run useradd --system --user-group --home-dir "$STATE" --no-create-home \
      --shell /usr/sbin/nologin kiosk
  fi
  run usermod --append --groups "$(IFS=,; echo "${KIOSK_GROUPS[*]}")" kiosk
}

# /opt/kiosk/<version>: a virtual environment with the kiosk, its systemd files and docs.
# A version is complete once its .complete marker exists; a half-built one is rebuilt.
install_version() {
  local version=$1 dir name
  dir=$(at "$OPT/$version")
  if [ -f "$dir/.complete" ]; then
    say "version $version already installed in $OPT/$version"
    return
  fi
  say "version $version in $OPT/$version"
  rm -rf "$dir"
  mkdir -p "$dir"
  run python3 -m venv "$OPT/$version"
  run "$OPT/$version/bin/pip" install --quiet --upgrade pip
  # No aarch64 wheel for pyscard and zxing-cpp: pip builds them here (BUILD_PACKAGES);
  # pyscard from source even where a wheel exists, against this system's libpcsclite.
  run "$OPT/$version/bin/pip" install --quiet --no-binary pyscard "$(package_spec)"
  mkdir -p "$dir/share/kiosk/systemd" "$dir/share/doc"
  cp "$HERE"/*.service "$HERE"/install.sh "$dir/share/kiosk/systemd/"
  for name in "${!SYSTEM_FILES[@]}"; do cp "$HERE/$name" "$dir/share/kiosk/systemd/"; done
  if [ -f "$HERE/../docs/appliance.md" ]; then cp "$HERE/../docs/appliance.md" "$dir/share/doc/"; fi
  touch "$dir/.complete"
}

package_spec() {
  case "$SOURCE" in
    *.whl) echo "${SOURCE}[ui,usb]" ;;
    *) echo "$(cd "$SOURCE" && pwd)[ui,usb]" ;;
  esac
}

# /etc/kiosk/kiosk.toml: the annotated template of the version just installed, or an
# existing file, never overwritten.
write_config() {
  local toml kiosk
  toml=$(at "$ETC/kiosk.toml")
  mkdir -p "$(dirname "$toml")"
  if [ -e "$toml" ]; then
    say "$ETC/kiosk.toml exists: kept"
    return
  fi
  say "$ETC/kiosk.toml from the template"
  kiosk="$OPT/current/bin/kiosk"
  if [ "$DRY_RUN" -eq 0 ] && "$kiosk" config template >"$toml.new" 2>/dev/null; then
    :
  else
    # Under --dry-run there is no venv to ask; a version without `config template` neither.
    # Every setting has its default, so a file without any runs the same kiosk.
    [ "$DRY_RUN" -eq 0 ] || printf '+ %q config template > %q\n' "$kiosk" "$ETC/kiosk.toml"
    if [ -f "$HERE/kiosk.toml.example" ]; then
      cp "$HERE/kiosk.toml.example" "$toml.new"
    else
      printf '%s\n' "# The kiosk's settings: \`kiosk config template\` lists every one with its default." \
        "# Secrets go in $ETC/credentials/, not here." >"$toml.new"
    fi
  fi
  chmod 0644 "$toml.new"
  mv "$toml.new" "$toml"
}

# /etc/kiosk/credentials/*: 0600 files, root's. The outbox key is generated (or taken over
# from a previous install's state directory, so queued guest data stays readable); the
# others are the property's, empty until the operator fills them in.
write_credentials() {
  local dir name file
  dir=$(at "$ETC/credentials")
  mkdir -p "$dir"
  chmod 0700 "$dir"
  for name in "${CREDENTIALS[@]}"; do
    file="$dir/$name"
    [ -e "$file" ] && continue
    say "credential $name"
    (
      umask 077
      if [ "$name" = outbox-key ]; then
        if [ -s "$(at "$STATE/secret.key")" ]; then
          cp "$(at "$STATE/secret.key")" "$file.new"
        else  # a Fernet key: 32 random bytes, URL-safe base64
          head -c 32 /dev/urandom | base64 | tr '+/' '-_' >"$file.new"
        fi
      else
        : >"$file.new"
      fi
      mv "$file.new" "$file"
    )
  done
}

# The units and the files beside them, from version $1's copy.
write_system_files() {
  local from=$1 unit name
  from=$(at "$OPT/$from/share/kiosk/systemd")
  [ -d "$from" ] || from=$HERE  # a version installed before it kept its own copy
  for unit in "${UNITS[@]}"; do
    put "$from/$unit" "/etc/systemd/system/$unit" 0644
  done
  for name in "${!SYSTEM_FILES[@]}"; do
    put "$from/$name" "${SYSTEM_FILES[$name]}" 0644
  done
}

# The kernel command line: no console blanking, no cursor, and no login on the serial port.
edit_cmdline() {
  local file token line
  for file in "$(at /boot/firmware/cmdline.txt)" "$(at /boot/cmdline.txt)"; do
    [ -f "$file" ] || continue
    read -r line <"$file" || true
    local words=()
    for token in $line; do
      [ "$token" = console=serial0,115200 ] || words+=("$token")
    done
    for token in "${KERNEL_ARGS[@]}"; do
      [[ " ${words[*]} " == *" $token "* ]] || words+=("$token")
    done
    if [ "${words[*]}" != "$line" ]; then
      say "kernel command line: ${KERNEL_ARGS[*]}"
      printf '%s\n' "${words[*]}" >"$file.new"
      mv "$file.new" "$file"
    fi
    return
  done
  say "no cmdline.txt: add ${KERNEL_ARGS[*]} to the kernel command line by hand"
}

activate() {
  say "systemd"
  run systemctl daemon-reload
  run systemd-tmpfiles --create /etc/tmpfiles.d/kiosk.conf
  run systemctl restart systemd-sysctl.service
  run udevadm control --reload
  run udevadm trigger --subsystem-match=usb
  run systemctl mask "${MASKED[@]}"
  run systemctl set-default multi-user.target
  run systemctl enable --now systemd-timesyncd.service
  run timedatectl set-ntp true
  run systemctl enable pcscd.socket kiosk.service
}

do_install() {
  local version=$1 previous
  previous=$(current_version)
  install_packages
  create_user
  install_version "$version"
  switch_to "$version"
  write_config
  write_credentials
  write_system_files "$version"
  edit_cmdline
  activate
  # A running kiosk restarts on the new files; a first install waits for its config.
  run systemctl try-restart kiosk.service
  if [ -n "$previous" ] && [ "$previous" != "$version" ]; then
    say "switched from $previous to $version"
  fi
  say "installed $version. Next: $ETC/kiosk.toml, $ETC/credentials/*, then reboot"
}

doctor() {
  local version=$1
  if [ -n "${KIOSK_INSTALL_DOCTOR:-}" ]; then
    "$KIOSK_INSTALL_DOCTOR" "$version"
  else
    run systemctl start kiosk-doctor.service
  fi
}

do_upgrade() {
  local version=$1 previous
  previous=$(current_version)
  [ -n "$previous" ] || die "no kiosk installed to upgrade (run without --upgrade)"
  if [ "$previous" = "$version" ]; then
    say "$version is already the running version"
    return
  fi
  install_packages
  create_user
  install_version "$version"
  run systemctl stop kiosk.service
  switch_to "$version"
  write_credentials
  write_system_files "$version"
  run systemctl daemon-reload
  say "kiosk doctor on $version"
  if ! doctor "$version"; then
    say "kiosk doctor failed on $version: back to $previous"
    switch_to "$previous"
    write_system_files "$previous"
    run systemctl daemon-reload
    run systemctl start kiosk.service
    rm -rf "$(at "$OPT/$version")"
    die "upgrade to $version rolled back (journalctl -u kiosk-doctor says why)"
  fi
  run systemctl start kiosk.service
  prune_versions "$version" "$previous"
  say "upgraded from $previous to $version"
}

# Keep the running version and the one before it (a manual way back); remove the others.
prune_versions() {
  local dir name
  for dir in "$(at "$OPT")"/*/; do
    name=$(basename "$dir")
    [ "$name" = "$1" ] || [ "$name" = "$2" ] || [ "$name" = current ] || rm -rf "$dir"
  done
}

do_uninstall() {
  local unit name file
  say "removing the kiosk"
  run systemctl disable --now "${UNITS[@]}" || true  # a half-done install may lack some
  run systemctl unmask "${MASKED[@]}"
  for unit in "${UNITS[@]}"; do rm -f "$(at "/etc/systemd/system/$unit")"; done
  for name in "${!SYSTEM_FILES[@]}"; do rm -f "$(at "${SYSTEM_FILES[$name]}")"; done
  file=$(at "$ETC/credentials/outbox-key")
  if [ "$PURGE" -eq 0 ] && [ -s "$file" ] && [ -d "$(at "$STATE")" ]; then
    # The state directory stays: keep the key its sealed guest data opens with.
    say "outbox key kept as $STATE/secret.key"
    (umask 077 && cp "$file" "$(at "$STATE/secret.key")")
    run chown kiosk:kiosk "$STATE/secret.key"
  fi
  rm -rf "$(at "$OPT")" "$(at "$ETC")"
  for file in "$(at /boot/firmware/cmdline.txt)" "$(at /boot/cmdline.txt)"; do
    [ -f "$file" ] || continue
    local line token words=()
    read -r line <"$file" || true
    for token in $line; do
      [[ " ${KERNEL_ARGS[*]} " == *" $token "* ]] || words+=("$token")
    done
    printf '%s\n' "${words[*]}" >"$file.new"
    mv "$file.new" "$file"
  done
  run systemctl daemon-reload
  if [ "$PURGE" -eq 1 ]; then
    say "purging $STATE and the kiosk user"
    rm -rf "$(at "$STATE")"
    run userdel kiosk
  else
    say "kept $STATE (--purge removes it)"
  fi
}

case "$MODE" in
  uninstall) do_uninstall ;;
  *)
    [ -n "$VERSION" ] || VERSION=$(source_version)
    [[ "$VERSION" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || die "not a version name: $VERSION"
    mkdir -p "$(at "$OPT")"
    if [ "$MODE" = upgrade ]; then do_upgrade "$VERSION"; else do_install "$VERSION"; fi
    ;;
esac
