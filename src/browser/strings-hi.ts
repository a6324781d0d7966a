/**
 * The hosted page's strings in Hindi (हिन्दी), key for key those of strings.ts.
 *
 * NEEDS REVIEW: drafted without a native speaker. Have a native Hindi speaker review every
 * string before production use (docs/guides/hosted-page.md, "Languages"); the consent wording
 * carries legal weight.
 */
import type { FieldProblems, ProblemWording, Strings } from './strings';

const DATE_EXAMPLE = '24 01 1990';

function enter({ label, kind }: ProblemWording): string {
  if (kind === 'date') return `${label} दर्ज करें, उदाहरण के लिए ${DATE_EXAMPLE}`;
  if (kind === 'choice') return `${label} चुनें`;
  if (kind === 'boolean') return `“${label}” के लिए हाँ या नहीं चुनें`;
  return `${label} दर्ज करें`;
}

const limit = (wording: ProblemWording): number => wording.params.limit ?? 0;

export const FIELD_PROBLEMS_HI: FieldProblems = {
  required: enter,
  type: (w) =>
    w.params.type === 'number' ? `${w.label} संख्या में दर्ज करें`
    : w.params.type === 'integer' ? `${w.label} पूर्ण संख्या में दर्ज करें`
    : w.params.type === 'boolean' || w.params.type === 'string' ? enter(w)
    : `${w.label} उस रूप में नहीं है जो यह चरण माँगता है`,
  additionalProperties: (w) => `${w.label} इस चरण में नहीं माँगा गया है`,
  const: (w) => `“${w.label}” का अपना उत्तर जाँचें`,
  enum: (w) => `सूची में से ${w.label} चुनें`,
  oneOf: (w) => `सूची में से ${w.label} चुनें`,
  pattern: (w) => `${w.label} सही प्रारूप में दर्ज करें`,
  format: (w) =>
    w.params.format === 'date' ? `${w.label} एक असली तारीख होनी चाहिए, उदाहरण के लिए ${DATE_EXAMPLE}` : `${w.label} सही प्रारूप में दर्ज करें, जैसे name@example.com`,
  minLength: (w) => (limit(w) <= 1 ? enter(w) : `${w.label} में कम से कम ${limit(w)} अक्षर होने चाहिए`),
  maxLength: (w) => `${w.label} में ${limit(w)} से अधिक अक्षर नहीं होने चाहिए`,
  minimum: (w) => `${w.label} ${limit(w)} या उससे अधिक होना चाहिए`,
  maximum: (w) => `${w.label} ${limit(w)} या उससे कम होना चाहिए`,
  minItems: (w) => `${w.label} के लिए कम से कम ${limit(w)} उत्तर चाहिए`,
  maxItems: (w) => `${w.label} के लिए अधिकतम ${limit(w)} उत्तर दिए जा सकते हैं`,
  minAge: (w) => (limit(w) === 0 ? `${w.label} आज की या उससे पहले की होनी चाहिए` : `${w.label} कम से कम ${limit(w)} वर्ष पहले की होनी चाहिए`),
  // An age of at most N: born less than N + 1 years ago.
  maxAge: (w) => `${w.label} ${limit(w) + 1} वर्ष से कम पहले की होनी चाहिए`,
};

export const STRINGS_HI: Strings = {
  lang: 'hi',
  languageName: 'हिन्दी',
  languageNav: 'भाषा',
  documentTitle: 'सत्यापन',
  noScript: 'सत्यापन पूरा करने के लिए इस पेज को JavaScript चाहिए।',
  startHeading: 'आइए शुरू करें',
  startText: 'इसमें कुछ मिनट लगते हैं। अगर आप बीच में छोड़कर इसी डिवाइस पर लौटते हैं, तो आपकी प्रगति बनी रहती है।',
  startButton: 'शुरू करें',
  resuming: 'जहाँ आपने छोड़ा था, वहीं से जारी कर रहे हैं…',
  continueButton: 'आगे बढ़ें',
  submitButton: 'आगे बढ़ें',
  tryAgainButton: 'फिर से कोशिश करें',
  yes: 'हाँ',
  no: 'नहीं',
  chooseOne: 'एक चुनें',
  requiredMark: '(ज़रूरी)',
  errorSummaryHeading: 'कोई समस्या है',
  answersLabel: 'आपके उत्तर',
  errorPrefix: 'त्रुटि:',
  dateDay: 'दिन',
  dateMonth: 'महीना',
  dateYear: 'वर्ष',
  dateHint: `उदाहरण के लिए, ${DATE_EXAMPLE}`,
  working: 'काम जारी है। इसमें थोड़ा समय लग सकता है; कृपया यह पेज खुला रखें।',
  providerWaiting: 'प्रदाता से जाँच की जा रही है…',
  attestrHeading: 'Attestr के साथ आगे बढ़ें',
  attestrText: 'Attestr आपके पहचान दस्तावेज़ की पुष्टि करता है। वहाँ काम पूरा होने पर आप यहाँ लौट आते हैं।',
  attestrButton: 'Attestr के साथ आगे बढ़ें',
  attestrVendorText: 'आगे बढ़ने के लिए Attestr खोलें; वहाँ काम पूरा होते ही यह पेज अपने-आप आगे बढ़ जाएगा।',
  providerRetryable: 'इस बार जाँच पूरी नहीं हो सकी।',
  waitHeading: 'अगला चरण तैयार होते ही हम आगे बढ़ेंगे',
  waitText: 'अभी आपको कुछ नहीं करना है। यह पेज अपने-आप अपडेट होता है; आप इसे बंद करके बाद में भी लौट सकते हैं।',
  waitStatus: (status: string) => `मौजूदा स्थिति: ${status}`,
  statusNames: {
    SESSION_CREATED: 'शुरू नहीं हुआ',
    SESSION_IN_PROGRESS: 'जारी है',
    SESSION_COMPLETED: 'पूरा हुआ',
    SESSION_EXPIRED: 'समय-सीमा समाप्त',
    SESSION_ARCHIVED: 'बंद',
  },
  successHeading: 'सब हो गया',
  successText: 'धन्यवाद। आपका सत्यापन पूरा हो गया है।',
  errorHeading: 'हम आपका सत्यापन पूरा नहीं कर सके',
  errorText: 'कुछ ठीक से नहीं हुआ। जिस संस्था ने आपको यहाँ भेजा है, वह आपको आगे की जानकारी देगी।',
  skippedHeading: 'आपने आगे नहीं बढ़ना चुना',
  skippedText: 'यहाँ आपसे और कुछ नहीं चाहिए।',
  expiredHeading: 'इस लिंक की समय-सीमा समाप्त हो गई है',
  expiredText: 'जिस संस्था ने आपको यहाँ भेजा है, उससे नया लिंक माँगें।',
  endedHeading: 'यह सत्र समाप्त हो गया है',
  endedText: 'इस लिंक से अब कुछ नहीं किया जा सकता। ज़रूरत हो, तो जिस संस्था ने आपको यहाँ भेजा है, उससे नया लिंक माँगें।',
  elsewhereHeading: 'यह सत्र किसी दूसरे डिवाइस पर खुला है',
  elsewhereText: 'आपकी सुरक्षा के लिए, यह एक समय में एक ही डिवाइस पर चलता है। यहाँ जारी रखने के लिए, जिस डिवाइस पर आपने शुरू किया था उस पर “अपने फ़ोन पर जारी रखें” चुनें, या जिस संस्था ने आपको यहाँ भेजा है उससे नया लिंक माँगें।',
  notFoundHeading: 'यह लिंक मान्य नहीं है',
  notFoundText: 'जाँच लें कि आपने पूरा लिंक खोला है, या नया लिंक माँगें।',
  failedHeading: 'कुछ गड़बड़ हो गई',
  failedText: 'कृपया थोड़ी देर बाद फिर से कोशिश करें।',
  redirecting: 'आपको वापस ले जा रहे हैं…',
  returnLink: 'अभी वापस जाएँ',
  progress: (position: number, total: number) => `कुल ${total} में से चरण ${position}`,
  termsLink: 'सेवा की शर्तें',
  privacyLink: 'गोपनीयता सूचना',
  supportLink: 'सहायता',
  opensInNewTab: '(नए टैब में खुलता है)',
  returnLinkLater: 'जहाँ से आए थे, वहाँ वापस जाएँ',
  // Ways back (issue 28, items 3 and 4).
  backButton: 'वापस',

  // Continuing on another device (src/browser/handoff.ts): the offer, the page that follows, the claim.
  handoffButton: 'अपने फ़ोन पर जारी रखें',
  handoffHeading: 'अपने फ़ोन पर जारी रखें',
  handoffText: 'इस कोड को अपने फ़ोन के कैमरे से स्कैन करें, या नीचे दिया गया लिंक अपने फ़ोन पर खोलें।',
  handoffExpiry: (minutes: number) => `यह लिंक एक ही बार, ${minutes} मिनट तक काम करता है।`,
  handoffQrLabel: 'फ़ोन पर जारी रखने के लिंक का QR कोड',
  handoffWaiting: 'आपके फ़ोन की प्रतीक्षा है…',
  handoffCancel: 'इसके बजाय इसी डिवाइस पर जारी रखें',
  movedHeading: 'आपके दूसरे डिवाइस पर जारी है',
  movedText: 'वहीं आगे बढ़ें। यह पेज साथ-साथ चलता है और पूरा होने पर बताता है।',
  movedEndHeading: 'आपके दूसरे डिवाइस पर पूरा हुआ',
  movedEndText: 'इस डिवाइस पर अब कुछ और करने की ज़रूरत नहीं है।',
  claimHeading: 'इस डिवाइस पर जारी रखें',
  claimText: 'आपका सत्यापन उस डिवाइस से यहाँ आ जाता है जिस पर आपने शुरू किया था। वह डिवाइस रुक जाता है और केवल साथ-साथ देखता है।',
  claimButton: 'यहाँ जारी रखें',
  handoffUsedHeading: 'यह लिंक पहले ही इस्तेमाल हो चुका है',
  handoffUsedText: 'हर लिंक एक ही बार काम करता है। जिस डिवाइस पर आपने शुरू किया था उस पर नया लिंक बनाएँ, या जिस संस्था ने आपको यहाँ भेजा है उससे नया लिंक माँगें।',
  handoffExpiredHeading: 'इस लिंक की समय-सीमा समाप्त हो गई है',
  handoffExpiredText: 'दूसरे डिवाइस पर जारी रखने के लिंक थोड़े समय के लिए ही काम करते हैं। जिस डिवाइस पर आपने शुरू किया था उस पर नया लिंक बनाएँ, या जिस संस्था ने आपको यहाँ भेजा है उससे नया लिंक माँगें।',
};
