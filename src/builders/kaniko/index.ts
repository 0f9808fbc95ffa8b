// The Kaniko builder: image builds in a Kubernetes cluster, without privileges.
export { DEFAULT_KANIKO_IMAGE, KanikoBuilder, type KanikoBuilderOptions } from './builder.js';
export { BUILD_LABEL, DEFAULT_RESOURCES, kanikoArgs, kanikoPod } from './pod.js';
