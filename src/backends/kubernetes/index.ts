// The kubernetes backend's public surface.
export { createKubernetesBackend, type KubernetesBackend, type KubernetesBackendOptions } from './backend.js';
export { KubeConfigError, KubernetesApiError, kubeConfigFrom } from './api.js';
export { PodTemplateError, checkPodTemplate, type PodTemplate } from './template.js';
export { LogCursorError, LogFormatError } from './log-lines.js';
export { podName } from './names.js';
export { DEFAULT_FEATURE_SETTINGS, type FeatureSettings } from './features.js';
