import { conformanceSuite } from './suite';

conformanceSuite('mysql');
