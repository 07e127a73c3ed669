import { fileURLToPath } from 'node:url';

/** Path of the FileDescriptorSet built by `buf build`, for gRPC server reflection. */
export const descriptorSetPath = fileURLToPath(new URL('./gen/descriptor.binpb', import.meta.url));
