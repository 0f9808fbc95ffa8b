// Image builders: content-addressed builds of a task's `build` section (ImageBuilds), with the
// docker (Engine API), buildah (daemonless) and kaniko (in the cluster) builders behind one
// Builder interface.
export type { Builder, BuilderName, BuildRequest } from './types.js';
export { BuildContextError, BuildError } from './errors.js';
export { contextDigest, contextTar, loadContext, type BuildContext, type ContextEntry } from './context.js';
export { contentTag, tagBuild, TAG_LENGTH, type TagInput, type TaggedContext } from './content-tag.js';
export { ImageBuilds, type ImageBuildsOptions, type ImageRefs, type ResolvedImage } from './images.js';
export { DockerBuilder, type DockerBuilderOptions } from './docker/builder.js';
export { BuildahBuilder, type BuildahBuilderOptions } from './buildah/builder.js';
export { KanikoBuilder, type KanikoBuilderOptions } from './kaniko/index.js';
