import { conformanceSuite } from './suite';

conformanceSuite('postgres');
