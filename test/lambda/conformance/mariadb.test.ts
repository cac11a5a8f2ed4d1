import { conformanceSuite } from './suite';

conformanceSuite('mariadb');
