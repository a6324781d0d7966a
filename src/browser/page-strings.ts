/**
 * The page's strings in the language the api chose for this page: the one its `<html lang>`
 * names (see src/api/hosted/page.ts). The page's scripts read their strings from here only.
 */
import { stringsFor } from './languages';

export const S = stringsFor(document.documentElement.lang).strings;
