import { conformanceSuite } from './suite';

conformanceSuite('redshift');
