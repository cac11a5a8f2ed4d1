import { conformanceSuite } from './suite';

conformanceSuite('documentdb');
