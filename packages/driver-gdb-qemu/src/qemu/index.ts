/**
 * The QEMU helper of the gdb driver (`--qemu`): QMP (or libvirt's virsh) for
 * registers the stub lacks, guest physical memory from QEMU's RAM file, and the
 * stub's physical mode for the rest. The driver loads this module only when
 * `--qemu` is given and calls {@link createQemuHelper}.
 */
export { createQemuHelper, openQemuHelper, monitorReadPhysical, QemuHelper, type QemuHelperParts, type RamSource } from './helper.js';
export { QEMU_ERROR, QmpError, QemuHelperError } from './errors.js';
export { type QemuMonitor, hmpArguments } from './monitor.js';
export { QmpClient, type QmpConnectOptions } from './qmp-client.js';
export { QmpDecoder, classify, encodeCommand, type QmpEvent, type QmpMessage, type QmpErrorBody } from './qmp-codec.js';
export { VirshMonitor, virshHmpArgs, virshQmpArgs, type Runner, type VirshOptions } from './virsh.js';
export { parseInfoRegisters } from './registers.js';
export { RamLayout, parseFlatView, layoutFromFlatView, pcRamLayout, pcRamSplit, pcMachineType, type RamSegment, type RamLocation, type FlatRange, type PcMachine } from './ram-layout.js';
export { RamFile } from './ram-file.js';
export { stubHasPhysicalMode, stubReadPhysical, stubWritePhysical, type StubAccess } from './stub-physical.js';
