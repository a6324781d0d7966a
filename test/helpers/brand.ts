/** A sample tenant brand (Kestrel Bank, a made-up bank): the hosted page's screenshots show it. */
/** A 48 x 48 mark: a teal tile with a white K and a gold dot. */
export const KESTREL_LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48" width="48" height="48">' +
  '<rect width="48" height="48" rx="12" fill="#0f6b5c"/>' +
  '<path d="M16 12v24M16 25l13-13M21 21l11 15" stroke="#ffffff" stroke-width="5" stroke-linecap="round" stroke-linejoin="round" fill="none"/>' +
  '<circle cx="35" cy="14" r="3.5" fill="#f2c14e"/></svg>';

export const KESTREL_LOGO = `data:image/svg+xml;base64,${Buffer.from(KESTREL_LOGO_SVG).toString('base64')}`;

/** As a client's `brand` key in the registry's JSON (load it with parseClients, as the api does). */
export const KESTREL_BRAND = {
  name: 'Kestrel Bank',
  logo: KESTREL_LOGO,
  accentColor: '#0f6b5c',
  termsUrl: 'https://kestrel.example/terms',
  privacyUrl: 'https://kestrel.example/privacy',
  supportUrl: 'https://kestrel.example/help',
};
