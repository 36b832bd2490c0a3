#!/usr/bin/python3
# fuel-forge "provisioned" call-back (installed by the configdrive's cloud-config).
#   --schedule  start the call-back as its own systemd unit (outside cloud-final,
#               which it must wait for) or as a detached process without systemd
#   --send      wait for cloud-init to finish, then POST the result to the master
# Configuration: /etc/fuel-forge/report.json {uid, hostname, callback_url}.
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

CONFIG = "/etc/fuel-forge/report.json"
LOG = "/var/log/fuel-forge/report.log"
SENT = "/var/lib/fuel-forge/report-sent"


def log(msg):
    os.makedirs(os.path.dirname(LOG), exist_ok=True)
    with open(LOG, "a") as f:
        now = time.time()
        f.write(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ " % (now % 1 * 1000) + msg + "\n")


def run(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
        return p.returncode, p.stdout, p.stderr
    except (OSError, subprocess.TimeoutExpired) as e:
        return -1, "", str(e)


def schedule():
    me = os.path.abspath(__file__)
    if os.path.isdir("/run/systemd/system"):
        rc, _, err = run(["systemd-run", "--no-block", "--unit=fuel-forge-report",
                          "--description=fuel-forge provisioned call-back",
                          "/usr/bin/python3", me, "--send"])
        if rc == 0:
            log("scheduled as systemd unit fuel-forge-report")
            return 0
        log("systemd-run failed (%s): %s" % (rc, err.strip()))
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/usr/bin/python3", ["/usr/bin/python3", me, "--send"])
        os._exit(0)
    log("scheduled as a detached process")
    return 0


# cloud-init's own command line with its start-up paid in advance: the process loads
# cloud-init's entry point as /usr/bin/cloud-init does, then waits for a line on stdin
# before it runs. Loading takes ~4-5 s of CPU on an emulated node, and the call-back
# needs `cloud-init analyze` only after `status --wait` has returned. Exit 125 (before
# the line) says the entry point could not be loaded: the caller runs the command itself.
WARM_CLOUD_INIT = """import sys
try:
    from importlib.metadata import distribution
    main = next(e for e in distribution("cloud-init").entry_points
                if e.group == "console_scripts" and e.name == "cloud-init").load()
except Exception as e:
    sys.stderr.write("no cloud-init entry point: %s\\n" % e)
    sys.exit(125)
sys.stdin.readline()
sys.argv[0] = "cloud-init"
sys.exit(main())
"""
NOT_WARMED = 125


def warm_cloud_init(args):
    """Starts `cloud-init ARGS` now; returns a function that lets it run and gives (rc, out, err)."""
    try:
        p = subprocess.Popen([sys.executable, "-c", WARM_CLOUD_INIT] + args, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError:
        p = None

    def finish():
        if p is not None:
            try:
                out, err = p.communicate("run\n", timeout=3600)
                if p.returncode != NOT_WARMED:
                    return p.returncode, out, err
            except (OSError, subprocess.TimeoutExpired) as e:
                p.kill()
                return -1, "", str(e)
        return run(["cloud-init"] + args)
    return finish


def cloud_init_status():
    rc, out, err = run(["cloud-init", "status", "--wait", "--format", "json"])
    try:
        status = json.loads(out)
    except ValueError:
        status = {"status": "unknown", "raw": out.strip(), "stderr": err.strip()}
    status["exit_code"] = rc
    return status


def cloud_init_stages():
    # cloud-init's own timing per stage (seconds): where a first boot spends its time.
    try:
        with open("/run/cloud-init/status.json") as f:
            v1 = json.load(f).get("v1", {})
    except (OSError, ValueError):
        return {}
    out = {}
    for name, st in v1.items():
        if isinstance(st, dict) and st.get("start") and st.get("finished"):
            out[name] = round(st["finished"] - st["start"], 1)
    return out


def lines(result, limit, strip=str.strip):
    rc, text, _ = result
    return [strip(l) for l in text.splitlines() if l.strip()][:limit] if rc == 0 else []


def boot_analysis(pool, then=lambda: None, ci_blame=None):
    # Where the first boot went, in systemd's and cloud-init's own words. systemd
    # times the boot only once it is over, which can be a moment after cloud-final.
    # The commands run side by side: each is a Python or systemd start-up that takes
    # seconds on a slow (emulated) node, and the call-back waits for all of them.
    # `then` runs once the boot is over, beside systemd's analysis.
    ci_blame = pool.submit(ci_blame or (lambda: run(["cloud-init", "analyze", "blame"])))
    run(["timeout", "60", "systemctl", "is-system-running", "--wait"])
    time_f = pool.submit(run, ["systemd-analyze", "time"])
    blame = pool.submit(run, ["systemd-analyze", "blame", "--no-pager"])
    chain = pool.submit(run, ["systemd-analyze", "critical-chain", "--no-pager"])
    then()
    rc, text, err = time_f.result()
    return {
        "time": (text if rc == 0 else err).strip()[:400],
        "blame": lines(blame.result(), 15),
        "critical_chain": lines(chain.result(), 30, str.rstrip),
        "cloud_init_blame": lines(ci_blame.result(), 15),
    }


def datasource(status):
    ds = status.get("datasource")
    try:
        with open("/run/cloud-init/instance-data.json") as f:
            v1 = json.load(f).get("v1", {})
        return {"name": ds or v1.get("platform"), "platform": v1.get("platform"),
                "subplatform": v1.get("subplatform"), "instance_id": v1.get("instance_id")}
    except (OSError, ValueError):
        return {"name": ds}


# Files the configdrive's write_files put in place; their digests let the master
# check the node is configured from *our* configdrive without shipping secrets.
CHECKED_FILES = ["/etc/hosts", "/etc/resolv.conf", "/etc/puppet/puppet.conf", "/etc/default/puppet",
                 "/etc/mcollective/server.cfg", "/etc/default/mcollective"]


def sha256_of(path):
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def read_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except OSError:
        return []


def mounts():
    # Mount points as the master planned them ("\040" is a space in /proc/mounts).
    points = [l.split()[1].replace("\\040", " ") for l in read_lines("/proc/self/mounts") if len(l.split()) > 1]
    return sorted(set(points))


def unit_states():
    # The units the agent enables in the target, and whatever failed: the master sees why a boot went wrong.
    states = {}
    for unit in ["fuel-forge-lvm-activate.service"]:
        _, out, _ = run(["systemctl", "is-active", unit])
        states[unit] = out.strip() or "unknown"
    _, failed, _ = run(["systemctl", "list-units", "--failed", "--plain", "--no-legend"])
    return states, [l.split()[0] for l in failed.splitlines() if l.strip()]


def partitions():
    # GPT type and filesystem of every partition as the node's own tools see them, so the
    # master can check Ceph/Swift type GUIDs: lsblk (udev's database), else blkid's probe.
    rc, out, _ = run(["lsblk", "--json", "--list", "-o", "PATH,TYPE,PARTTYPE,FSTYPE"])
    try:
        rows = json.loads(out).get("blockdevices", []) if rc == 0 else []
    except ValueError:
        rows = []
    parts = {}
    for r in rows:
        if r.get("type") != "part" or not r.get("path"):
            continue
        parttype, fstype = r.get("parttype"), r.get("fstype")
        if not parttype:
            _, probe, _ = run(["blkid", "-p", "-o", "export", r["path"]])
            tags = dict(l.split("=", 1) for l in probe.splitlines() if "=" in l)
            parttype, fstype = tags.get("PART_ENTRY_TYPE"), tags.get("TYPE")
        parts[r["path"]] = {"parttype": parttype.lower() if parttype else None, "fstype": fstype or None}
    return parts


EFI_GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c"
# Where sysfs is (tests point it at a fake tree).
SYS = os.environ.get("FUEL_FORGE_SYS", "/sys")


def efi_var(name):
    """An EFI global variable's data (efivarfs prefixes 4 bytes of attributes), or None."""
    try:
        with open("%s/firmware/efi/efivars/%s-%s" % (SYS, name, EFI_GLOBAL), "rb") as f:
            return f.read()[4:]
    except OSError:
        return None


def firmware():
    """What the node booted with: UEFI or BIOS, Secure Boot's state, the boot entries in order."""
    if not os.path.isdir(SYS + "/firmware/efi"):
        return {"efi": False}
    sb = efi_var("SecureBoot")
    order = efi_var("BootOrder") or b""
    ids = ["Boot%04X" % int.from_bytes(order[i:i + 2], "little") for i in range(0, len(order) - 1, 2)]
    entries = []
    for i in ids:
        data = efi_var(i)
        if data is None or len(data) < 6:
            continue
        # EFI_LOAD_OPTION: UINT32 attributes, UINT16 path length, UCS-2 description ending in NUL.
        desc = data[6:]
        end = next((k for k in range(0, len(desc) - 1, 2) if desc[k:k + 2] == b"\0\0"), len(desc))
        entries.append({"id": i, "description": desc[:end].decode("utf-16-le", "replace")})
    return {"efi": True, "secure_boot": sb[0] if sb else None, "boot_order": ids, "boot_entries": entries}


def facts():
    units, failed = unit_states()
    keys = []
    try:
        with open("/root/.ssh/authorized_keys") as f:
            keys = [l.strip() for l in f if l.strip() and not l.startswith("#")]
    except OSError:
        pass
    _, fqdn, _ = run(["hostname", "--fqdn"])
    try:
        tz = os.path.realpath("/etc/localtime").split("/zoneinfo/", 1)[-1]
    except OSError:
        tz = None
    return {
        "hostname": socket.gethostname(),
        "fqdn": fqdn.strip(),
        "root_authorized_keys": keys,
        "timezone": tz,
        "files": {p: sha256_of(p) for p in CHECKED_FILES},
        "kernel_cmdline": " ".join(read_lines("/proc/cmdline")).strip(),
        "mounts": mounts(),
        "swaps": [l.split()[0] for l in read_lines("/proc/swaps")[1:] if l.strip()],
        "units": units,
        "failed_units": failed,
        "partitions": partitions(),
        "firmware": firmware(),
    }


def send():
    with open(CONFIG) as f:
        cfg = json.load(f)
    ci_blame = warm_cloud_init(["analyze", "blame"])
    # Its JSON holds every field `status --long` prints: no second cloud-init start-up
    # (~4 s of CPU on an emulated node) just to print them again as text.
    status = cloud_init_status()
    log("cloud-init %s (exit %s)" % (status.get("status"), status.get("exit_code")))
    node_facts = {}
    with ThreadPoolExecutor(max_workers=6) as pool:
        # Facts once the boot is over (failed units are final then), beside systemd's analysis.
        analysis = boot_analysis(pool, then=lambda: (log("boot over"), node_facts.update(facts())), ci_blame=ci_blame)
    log("boot analysed")
    body = {
        "uid": cfg.get("uid"),
        "hostname": cfg.get("hostname"),
        "status": "provisioned",
        "cloud_init": status,
        "cloud_init_stages": cloud_init_stages(),
        "boot_analysis": analysis,
        "datasource": datasource(status),
        "boot_finished": os.path.exists("/var/lib/cloud/instance/boot-finished"),
        "facts": node_facts,
        "uptime": open("/proc/uptime").read().split()[0],
    }
    data = json.dumps(body).encode()
    delay = 2
    for attempt in range(1, 31):
        req = urllib.request.Request(cfg["callback_url"], data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                log("reported provisioned to %s: HTTP %s" % (cfg["callback_url"], r.status))
                os.makedirs(os.path.dirname(SENT), exist_ok=True)
                open(SENT, "w").write(json.dumps(body))
                return 0
        except Exception as e:  # network may come up late; retry with backoff
            log("attempt %d to %s failed: %s" % (attempt, cfg["callback_url"], e))
        time.sleep(delay)
        delay = min(delay * 2, 60)
    return 1


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "--send"
    sys.exit(schedule() if mode == "--schedule" else send())
