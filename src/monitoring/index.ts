export * from './rotation-dashboard';
export * from './rotation-function-alarms';
export * from './rotation-metrics';
export * from './rotation-monitor';
export * from './rotation-notification-topic';
export * from './rotation-overdue-check';
