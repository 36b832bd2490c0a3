// GPT partition type GUIDs the plan sets when the data does not give one.

/** A GUID as sgdisk takes it (any case); Nailgun's data may carry anything in partition_guid. */
export const isGuid = (s: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
export const GUID = {
  biosGrub: '21686148-6449-6E6F-744E-656564454649',
  esp: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  lvm: 'E6D6D379-F507-44C2-A23C-238F2A3DF928',
  raid: 'A19D880F-05FC-4D3B-A006-743F0F84911E',
  swap: '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F',
  linux: '0FC63DAF-8483-4772-8E79-3D69D8477DE4',
} as const;
