/**
 * perf_event_open(2) for the software page-fault events, one per CPU, and for a tracepoint,
 * each opened disabled: BpfObject.attachPerfEvent enables it once a program is attached.
 *
 * @module
 */

import { FaultlineError } from "../../common/faultline_error.ts";
import { errnoText, lastErrno, type LibbpfHandle } from "./libbpf.ts";

const SYS_PERF_EVENT_OPEN = 298n; // x86-64
const PERF_TYPE_SOFTWARE = 1;
const PERF_TYPE_TRACEPOINT = 2;
/** PERF_COUNT_SW_PAGE_FAULTS_MIN. */
export const PERF_COUNT_SW_PAGE_FAULTS_MIN = 5;
/** PERF_COUNT_SW_PAGE_FAULTS_MAJ. */
export const PERF_COUNT_SW_PAGE_FAULTS_MAJ = 6;
const PERF_ATTR_SIZE = 128; // PERF_ATTR_SIZE_VER7
const PERF_FLAG_FD_CLOEXEC = 8n;

/**
 * Opens software event `config` on `cpu` for every process, sampling every event
 * (sample_period 1), disabled. Returns the fd.
 */
export function openSoftwareEvent(lib: LibbpfHandle, config: number, cpu: number): number {
  const fd = openEvent(lib, PERF_TYPE_SOFTWARE, config, cpu);
  if (fd < 0) {
    const errno = lastErrno(lib);
    throw new FaultlineError(
      `Cannot open the ${
        config === PERF_COUNT_SW_PAGE_FAULTS_MIN ? "minor" : "major"
      }-faults perf event on CPU ${cpu}: ${errnoText(lib, errno)} (errno ${errno})`,
    );
  }
  return fd;
}

function openEvent(lib: LibbpfHandle, type: number, config: number, cpu: number): number {
  const attr = new Uint8Array(PERF_ATTR_SIZE);
  const v = new DataView(attr.buffer);
  v.setUint32(0, type, true); // type
  v.setUint32(4, PERF_ATTR_SIZE, true); // size
  v.setBigUint64(8, BigInt(config), true); // config
  v.setBigUint64(16, 1n, true); // sample_period
  v.setBigUint64(40, 1n, true); // flags: disabled
  return Number(
    lib.libc.syscall_perf(SYS_PERF_EVENT_OPEN, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC),
  );
}

/**
 * Opens the tracepoint whose tracefs folder is `dir` (its `id` file names it) as a perf event,
 * for every process (a BPF program attached to it runs on every CPU). Returns the fd.
 */
export function openTracepointEvent(lib: LibbpfHandle, dir: string): number {
  let id: number;
  try {
    id = Number(Deno.readTextFileSync(`${dir}/id`).trim());
  } catch (e) {
    throw new FaultlineError(
      `Cannot open tracepoint ${dir}: ${(e as Error).message}; is tracefs mounted ` +
        `(mount -t tracefs nodev /sys/kernel/tracing)?`,
    );
  }
  const fd = openEvent(lib, PERF_TYPE_TRACEPOINT, id, 0);
  if (fd < 0) {
    const errno = lastErrno(lib);
    throw new FaultlineError(
      `Cannot open tracepoint ${dir} (id ${id}): ${errnoText(lib, errno)} (errno ${errno})`,
    );
  }
  return fd;
}
