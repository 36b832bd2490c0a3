// Kept in step with package.json by a unit test; embedded so the bundled agent knows it.
export const VERSION = '0.1.0';
