import { openPostgresStore } from '../src/store/postgres.ts';
import { usePostgresDatabase } from './helpers/postgres.ts';
import { describeStoreSuite } from './store.suite.ts';

const database = usePostgresDatabase();

describeStoreSuite('PostgreSQL', async (options) =>
  openPostgresStore(await database.freshSchema(), options),
);
