"""Table test of the router (assistant/routing.py), GiNZA style: Japanese input and what
the classifier said (often wrong on purpose) → the one decision.

Row: (text, nlu, expected). `nlu` is the top intent, or "faq:<id>:<confidence>[:<runner-up>]"
for the ResponseSelector's pick, or "nlu_fallback". `expected` is "definition:<headword>",
"comparison:<A>,<B>", "unknown", "faq:<id>", "handoff", "offer_human", "small_talk:<kind>",
"out_of_scope", "fallback", "decline_offer", "back_to_bot".
"""

from __future__ import annotations

import pytest

from assistant import routing
from assistant.faq import load_faq
from assistant.faq_retrieval import FaqRetriever
from assistant.glossary import load_glossary
from assistant.matcher import TermMatcher
from assistant.routing import Decision, Route, RoutingInput

GLOSSARY = load_glossary()
MATCHER = TermMatcher(GLOSSARY)
FAQ = load_faq()
KB = routing.knowledge(GLOSSARY, FAQ, FaqRetriever(FAQ))

ROWS = [
    # --- a term question in hiragana, whatever the classifier thought (once: farewell) ---
    ("あうとばうんどってなんですか", "goodbye", "definition:アウトバウンド"),
    ("おうとうりつってなに", "greet", "definition:応答率"),
    ("おんせいにんしきとはなんですか", "thanks", "definition:音声認識"),
    ("くろすせるってなあに", "goodbye", "definition:クロスセル"),
    ("しぇあーどってどういういみ", "out_of_scope", "definition:シェアード"),
    ("のんぼいすってなに", "goodbye", "definition:ノンボイス"),
    ("でんわおうたいのいみをおしえて", "nlu_fallback", "definition:電話応対"),
    ("うんようかんりってどういういみ", "feedback_positive", "definition:運用管理"),
    ("でーたぶんせきのいみ", "goodbye", "definition:データ分析"),
    ("へるぷですくってなに", "affirm", "definition:ヘルプデスク"),
    ("おむにちゃねるのいみがしりたい", "deny", "definition:オムニチャネル"),
    ("こきゃくさぽーとってなに", "goodbye", "definition:顧客サポート"),
    (
        "ざいたくこんたくとせんたーってなんですか",
        "define_term",
        "definition:在宅コンタクトセンター",
    ),
    ("あふれこってなんのこと", "out_of_scope", "definition:あふれ呼"),
    ("すくりぷとってなにかおしえて", "greet", "definition:スクリプト"),
    ("ぷろふぃっとせんたーってなんのこと", "goodbye", "definition:プロフィットセンター"),
    # --- a role (役職) asked about in hiragana: never a ticket ---------------------------
    ("すーぱーばいざーってどんなやくしょく", "request_human", "definition:スーパーバイザー"),
    ("おぺれーたーってなにをするひと", "request_human", "definition:オペレーター"),
    ("えーじぇんとってどんなひと", "request_human", "definition:エージェント"),
    ("えーじぇんとってなんのしごと", "request_human", "definition:エージェント"),
    ("おぺれーたーとはなんですか", "request_human", "definition:オペレーター"),
    ("すーぱーばいざーの意味", "request_human", "definition:スーパーバイザー"),
    ("SVってどんな役職?", "request_human", "definition:スーパーバイザー"),
    # --- random kana / emoji / tags / URLs / e-mail: nothing to answer --------------------
    ("いはむておれべそゆさ", "out_of_scope", "fallback"),
    ("ねむがのかえにぜぐづ", "nlu_fallback", "fallback"),
    ("みべもさみすつぼみた", "feedback_positive", "fallback"),
    ("わそはみたもにえうぜ", "request_human", "fallback"),
    ("づてぴほむゆきがごせ", "define_term", "fallback"),
    ("ぬけろほそりまめぺよ", "request_human", "fallback"),
    ("ヌケロホソリマメペヨ", "define_term", "fallback"),
    ("<script></script>", "define_term", "fallback"),
    ("<script>alert(1)</script>", "nlu_fallback", "fallback"),
    ("<SCRIPT>alert('acw')</SCRIPT>", "define_term", "fallback"),
    ("<div><span></span></div>", "out_of_scope", "fallback"),
    ("<dashboard></dashboard>", "define_term", "fallback"),
    ("<agent/>", "define_term", "fallback"),
    ("<crm>", "define_term", "fallback"),
    ('<iframe src="about:blank"></iframe>', "define_term", "fallback"),
    ("<p><br></p>", "greet", "fallback"),
    ("😀", "define_term", "fallback"),
    ("🌸🌸", "greet", "fallback"),
    ("🤔❓", "define_term", "fallback"),
    ("📞☎️📱", "request_human", "fallback"),
    ("🙇‍♀️🙇‍♀️", "thanks", "fallback"),
    ("!?!?", "nlu_fallback", "fallback"),
    ("https://example.com/acw", "define_term", "fallback"),
    ("https://www.example.jp/support/dashboard.html", "define_term", "fallback"),
    ("http://example.com/search?q=crm", "define_term", "fallback"),
    ("www.example.com/sv", "define_term", "fallback"),
    ("sv@example.co.jp", "define_term", "fallback"),
    ("operator.tanaka@example.com", "request_human", "fallback"),
    ("crm-support@example.jp", "define_term", "fallback"),
    (
        "https://example.com/dashboard を見ながら質問です。ACWとは?",
        "define_term",
        "definition:アフターコールワーク",
    ),
    (
        "sv@example.co.jp から届いたメールにCRMと書いてありました。CRMとは何ですか",
        "define_term",
        "definition:CRM",
    ),
    ("<b>ACW</b>とは?", "define_term", "definition:アフターコールワーク"),
    ("", "nlu_fallback", "fallback"),
    ("   ", "nlu_fallback", "fallback"),
    # --- 「〇〇のやり方を知りたい」 about a glossary term (once: out of scope) -------------
    ("ACWのやり方を知りたい", "out_of_scope", "definition:アフターコールワーク"),
    ("データ分析のやり方を知りたいです", "out_of_scope", "definition:データ分析"),
    ("エスカレーションのやり方を知りたい", "request_human", "definition:エスカレーション"),
    ("トラッキングのやり方を教えてほしい", "out_of_scope", "definition:トラッキング"),
    ("クロスセルのやり方を知りたいんですが", "out_of_scope", "definition:クロスセル"),
    ("運用管理のやり方が知りたい", "out_of_scope", "definition:運用管理"),
    ("後処理のやり方を知りたい", "out_of_scope", "definition:アフターコールワーク"),
    ("電話応対の進め方を知りたい", "nlu_fallback", "definition:電話応対"),
    ("カレーの作り方を知りたい", "out_of_scope", "out_of_scope"),
    ("確定申告のやり方を知りたい", "out_of_scope", "out_of_scope"),
    ("猫の飼い方を教えてください", "out_of_scope", "out_of_scope"),
    # --- 「Xって〈context〉ではどういう意味?」 (once: an unknown word of the whole phrase) ----
    (
        "ACWってコンタクトセンターではどういう意味?",
        "define_term",
        "definition:アフターコールワーク",
    ),
    ("SVってコールセンターではどういう意味ですか", "define_term", "definition:スーパーバイザー"),
    (
        "トラッキングはコンタクトセンターでは何を指しますか",
        "faq:contact_center_features:0.9",
        "definition:トラッキング",
    ),
    ("シェアードってこの業界ではどういう意味?", "define_term", "definition:シェアード"),
    (
        "フィードバックってコンタクトセンターの文脈ではどういう意味ですか",
        "feedback_negative",
        "definition:フィードバック",
    ),
    (
        "ダッシュボードってコールセンターだとどういう意味?",
        "define_term",
        "definition:ダッシュボード",
    ),
    ("受電ってコールセンター用語ではどういう意味ですか", "define_term", "definition:インバウンド"),
    (
        "エスカレーションってコンタクトセンターではどういう意味で使われますか",
        "request_human",
        "definition:エスカレーション",
    ),
    (
        "研修資料に出てくるプロフィットセンターって、コンタクトセンター業界ではどういう意味?",
        "define_term",
        "definition:プロフィットセンター",
    ),
    ("AHTってコールセンターではどういう意味?", "define_term", "unknown"),
    ("ウィスパリングってコンタクトセンターではどういう意味ですか", "out_of_scope", "unknown"),
    # --- a polite request for 「担当の方」 and other person requests ------------------------
    ("担当の方をお願いできますか", "nlu_fallback", "handoff"),
    ("担当の方に代わっていただけますでしょうか", "nlu_fallback", "handoff"),
    ("担当者をお願いします", "define_term", "handoff"),
    ("どなたか担当の方とお話しできますか", "faq:contact_center_role:0.7", "handoff"),
    ("人と直接話せる?", "nlu_fallback", "handoff"),
    ("詳しい人に代わってくれる?", "out_of_scope", "handoff"),
    ("係の方につないでいただけますか", "nlu_fallback", "handoff"),
    ("担当の人いる?", "greet", "handoff"),
    ("スタッフの方とお話ししたいのですが", "nlu_fallback", "handoff"),
    ("人間のオペレーターにつないで", "define_term", "handoff"),
    ("窓口の方に相談したいです", "faq:rakuten_card_contact_center:0.8", "handoff"),
    ("誰か話せる人いない?", "out_of_scope", "handoff"),
    ("担当さん呼んで", "nlu_fallback", "handoff"),
    ("恐れ入りますが、担当者の方をお呼びいただけますか", "nlu_fallback", "handoff"),
    ("/request_human", "request_human", "handoff"),
    # --- definition vs request pairs -------------------------------------------------------
    ("オペレーターとは?", "define_term", "definition:オペレーター"),
    ("オペレーターと話したい", "define_term", "handoff"),
    ("おぺれーたーさんとはなしたい", "define_term", "handoff"),
    ("SVとは", "define_term", "definition:スーパーバイザー"),
    ("SVに代わってください", "define_term", "handoff"),
    ("スーパーバイザーって何?", "request_human", "definition:スーパーバイザー"),
    ("スーパーバイザーを呼んで", "define_term", "handoff"),
    ("エスカレーションとは何ですか", "define_term", "definition:エスカレーション"),
    ("エスカレーションしてください", "define_term", "handoff"),
    ("エスカレーションをお願いできますか", "define_term", "handoff"),
    ("オペレーターと話をさせてください", "compare_terms", "handoff"),
    ("オペレーターの方につないで", "define_term", "handoff"),
    (
        "オペレーターと話したいのですが、オペレーターとは何ですか",
        "request_human",
        "definition:オペレーター",
    ),
    (
        "先輩にSVに相談してと言われたけど、SVってどんな人?",
        "request_human",
        "definition:スーパーバイザー",
    ),
    ("ACWと話したい", "define_term", "definition:アフターコールワーク"),
    ("担当者とは", "define_term", "unknown"),
    # --- hiragana / katakana / half-width / full-width forms ------------------------------
    ("ACWとは?", "define_term", "definition:アフターコールワーク"),
    ("ＡＣＷとは？", "define_term", "definition:アフターコールワーク"),
    ("ａｃｗってなに", "greet", "definition:アフターコールワーク"),
    ("ｵﾍﾟﾚｰﾀｰとは", "define_term", "definition:オペレーター"),
    ("ｲﾝﾊﾞｳﾝﾄﾞって何?", "nlu_fallback", "definition:インバウンド"),
    ("いんばうんどってなにするの?", "out_of_scope", "definition:インバウンド"),
    ("オペレータとは", "define_term", "definition:オペレーター"),
    ("コールセンタとは何ですか", "define_term", "definition:コールセンター"),
    ("ACW", "define_term", "definition:アフターコールワーク"),
    ("SV?", "out_of_scope", "definition:スーパーバイザー"),
    ("CRMがどういうものか教えていただけますか", "define_term", "definition:CRM"),
    ("AHTってなんの略?", "define_term", "unknown"),
    ("IVRの略は?", "nlu_fallback", "definition:IVR"),
    # --- unknown terms -----------------------------------------------------------------------
    ("アップセルとは?", "define_term", "unknown"),
    ("ACW時間とは", "define_term", "unknown"),
    ("新人オペレーターとは", "define_term", "unknown"),
    ("ウィスパリングとは何ですか", "out_of_scope", "unknown"),
    ("架電リストって何?", "define_term", "unknown"),
    ("ATTとはどういう意味でしょうか", "nlu_fallback", "unknown"),
    ("通話録音の意味を教えて", "faq:contact_center_features:0.3", "unknown"),
    ("ぷれでぃくてぃぶこーるってなに", "goodbye", "unknown"),
    ("一次解決率ってどう計算するの?", "out_of_scope", "unknown"),
    ("BPO", "define_term", "unknown"),
    ("NPSについて教えて", "define_term", "unknown"),
    # --- comparisons --------------------------------------------------------------------------
    (
        "インバウンドとアウトバウンドの違いは?",
        "compare_terms",
        "comparison:インバウンド,アウトバウンド",
    ),
    ("CRMとデータ分析ってどう違うの?", "define_term", "comparison:CRM,データ分析"),
    (
        "コンタクトセンターとコールセンターってなにがちがうの",
        "goodbye",
        "comparison:コンタクトセンター,コールセンター",
    ),
    ("おぺれーたーとえーじぇんとのちがい", "nlu_fallback", "comparison:オペレーター,エージェント"),
    (
        "ヘルプデスクとコールセンターの違いは?",
        "faq:contact_center_role:0.6",
        "comparison:ヘルプデスク,コールセンター",
    ),
    ("ACWとアップセルの違いは?", "compare_terms", "definition:アフターコールワーク"),
    ("ロープレって何をするの?", "compare_terms", "unknown"),
    # --- FAQ -------------------------------------------------------------------------------
    ("TMJはどんな研修をしているの?", "faq:tmj:0.93", "faq:tmj"),
    ("TMJって何してる会社?", "faq:tmj:0.9", "faq:tmj"),
    (
        "楽天カードのコンタクトセンターはどんなことに対応してくれますか",
        "faq:rakuten_card_contact_center:0.9",
        "faq:rakuten_card_contact_center",
    ),
    ("SVはどんな役割?", "faq:contact_center_role:0.8", "definition:スーパーバイザー"),
    ("物品管理や配送状況を一元管理できる会社はどこ?", "faq:tmj:0.2", "faq:ntt_procx"),
    ("物品管理や配送状況を一元管理できる会社はどこ?", "nlu_fallback", "faq:ntt_procx"),
    ("ほげほげの件は?", "faq:tmj:0.2", "fallback"),
    # --- small talk, feedback, yes / no ----------------------------------------------------
    ("こんにちは", "greet", "small_talk:greet"),
    ("こんにちは〜、質問いいですか", "greet", "small_talk:greet"),
    ("はじめまして、研修中の新人です", "define_term", "small_talk:greet"),
    ("おつかれさまでーす", "greet", "small_talk:greet"),
    ("ありがとうございました", "thanks", "small_talk:thanks"),
    ("さんきゅー", "thanks", "small_talk:thanks"),
    ("ほんとに助かりました、ありがとうございます", "nlu_fallback", "small_talk:thanks"),
    ("ACWの説明ありがとう", "thanks", "small_talk:thanks"),
    ("さようなら", "goodbye", "small_talk:goodbye"),
    ("またね〜", "goodbye", "small_talk:goodbye"),
    ("ではこれで失礼します", "nlu_fallback", "small_talk:goodbye"),
    ("わかりやすかったです", "feedback_positive", "small_talk:feedback_thanks"),
    # the widget's 👍 / 👎 buttons send the intent itself
    # (「feedback」 is an alias of フィードバック)
    ("/feedback_positive", "feedback_positive", "small_talk:feedback_thanks"),
    ("/feedback_negative", "feedback_negative", "offer_human"),
    ("全然役に立たない", "feedback_negative", "offer_human"),
    ("クロスセルの意味がわかりません", "feedback_negative", "definition:クロスセル"),
    ("はい", "affirm", "small_talk:ack"),
    ("いいえ", "deny", "small_talk:ack"),
    ("不要です", "decline_contact", "small_talk:ack"),
    ("ボットに戻る", "back_to_bot", "back_to_bot"),
    # --- out of scope -----------------------------------------------------------------------
    ("明日の天気を教えて", "out_of_scope", "out_of_scope"),
    ("明日って雨降りそう?", "nlu_fallback", "out_of_scope"),
    ("東京駅までの行き方を教えて", "out_of_scope", "out_of_scope"),
    ("いま何時か教えて", "out_of_scope", "out_of_scope"),
    ("日本の首相は誰ですか", "out_of_scope", "out_of_scope"),
    ("宝くじの当て方を知りたい", "out_of_scope", "out_of_scope"),
    # --- sibling FAQs share the selector's confidence: a clear lead on the topic is enough ---
    (
        "コンタクトセンターの役割についてお伺いできますか",
        "faq:contact_center_role:0.49:0.14",
        "faq:contact_center_role",
    ),
    (
        "コンタクトセンターの特徴について知りたいです",
        "faq:contact_center_features:0.41:0.2",
        "faq:contact_center_features",
    ),
    (
        "コンタクトセンターについて簡単にまとめてもらえますか",
        "faq:contact_center_basics:0.47:0.44",
        "faq:contact_center_summary",  # まとめ is the aspect of the FAQ 「…のまとめ」
    ),
    (
        "コンタクトセンターについて教えて",
        "faq:contact_center_role:0.29:0.1",
        "definition:コンタクトセンター",
    ),
    (
        "コンタクトセンターってどういう意味?",
        "faq:contact_center_summary:0.43:0.18",
        "definition:コンタクトセンター",
    ),
    # --- a discourse adverb between って and 何; a word with ボット in it; greetings ------
    ("CXって結局なんなの?", "out_of_scope", "definition:カスタマーエクスペリエンス"),
    ("ACWってそもそもなに?", "out_of_scope", "definition:アフターコールワーク"),
    ("IVRっていったい何", "nlu_fallback", "definition:IVR"),
    ("チャットボットとは何のこと?", "back_to_bot", "unknown"),
    ("ボイスボットって何ですか", "back_to_bot", "unknown"),
    ("やっほー", "nlu_fallback", "small_talk:greet"),
    ("ハロー", "nlu_fallback", "small_talk:greet"),
    # --- how to do something the glossary does not name, whatever the classifier said ---
    ("英語の勉強法を教えて", "define_term", "out_of_scope"),
    ("ダイエットの方法を教えてください", "define_term", "out_of_scope"),
    ("将棋のコツを知りたい", "nlu_fallback", "out_of_scope"),
    ("パスタのゆで方を教えて", "define_term", "out_of_scope"),
    ("引っ越しの手順を教えてほしい", "define_term", "out_of_scope"),
    ("ギターの練習法って?", "nlu_fallback", "out_of_scope"),
    # ... but a term's how-to is its definition, and jargon stays an unknown word
    ("クロスセルの方法を教えて", "define_term", "definition:クロスセル"),
    ("スクリプトの作り方を知りたい", "define_term", "definition:スクリプト"),
    ("AHTの計算方法を教えて", "define_term", "unknown"),
    ("勉強法とは何ですか", "define_term", "unknown"),
    # --- issue 17: a clause between the term and the question (its first noun is asked) ----
    ("CRMが重いってどういうこと?", "nlu_fallback", "definition:CRM"),
    ("あふれ呼が30件ってどういう意味?", "out_of_scope", "definition:あふれ呼"),
    ("スクリプト通りに読めってどういうこと", "nlu_fallback", "definition:スクリプト"),
    ("ACW時間が長いってどういうこと?", "define_term", "unknown"),  # a compound: its own word
    ("コンタクトセンターで使うKPIとは", "define_term", "unknown"),  # the noun before とは
    # --- a knowledge question that names escalation or a role: never a ticket -----------
    ("エスカレーションの判断基準を知りたい", "request_human", "definition:エスカレーション"),
    ("SVを呼ぶべきタイミングは?", "request_human", "definition:スーパーバイザー"),
    ("オペレーターに代わってもらうのはどういう場合?", "request_human", "definition:オペレーター"),
    (
        "エスカレーションしてほしいと頼まれたらどうすれば?",
        "request_human",
        "definition:エスカレーション",
    ),
    # ... while a request, even phrased as a question, still is one
    ("担当者と直接話すことはできますか", "nlu_fallback", "handoff"),
    ("オペレーターさんに代わってもらえますか", "define_term", "handoff"),
    ("上の人と話したいのですが、お願いできますか", "nlu_fallback", "handoff"),
    # --- negation and correction: the term put aside is not asked -----------------------
    ("CRMじゃなくてIVRの意味", "define_term", "definition:IVR"),
    ("音声認識ではなくダッシュボードのことを知りたい", "define_term", "definition:ダッシュボード"),
    ("ACWのことは分かったので次はCRM", "define_term", "definition:CRM"),
    # --- a training request inside a sentence --------------------------------------------
    ("復習用にクイズを出してほしい", "out_of_scope", "start_training"),
    ("研修モードに切り替えてください", "request_human", "start_training"),
    ("クイズとは何ですか", "define_term", "unknown"),
    ("研修モードを終了したいです", "nlu_fallback", "fallback"),  # not a start (outside training)
    ("オペレーターと話したい、何時まで対応していますか", "request_human", "handoff"),
    # --- romaji and one-character typos ----------------------------------------------------
    ("kurosuseru tte nani", "out_of_scope", "definition:クロスセル"),
    ("dasshuboodo no imi", "nlu_fallback", "definition:ダッシュボード"),
    ("トラッキソグとは", "define_term", "definition:トラッキング"),
    ("オムニチャンネルって何?", "define_term", "definition:オムニチャネル"),
    ("ACW率とは", "define_term", "unknown"),  # a compound, not a typo
    # romaji one character off a name (the kana read, then respelled)
    ("omunichaneru no imi", "out_of_scope", "definition:オムニチャネル"),
    ("torakingu tte nani", "nlu_fallback", "definition:トラッキング"),
    ("arigatou", "thanks", "small_talk:thanks"),  # romaji that names nothing stays small talk
    # --- a training wish or request in any verb -------------------------------------------
    ("通勤中に用語クイズを解いてみたい", "nlu_fallback", "start_training"),
    ("クイズで遊びたいな", "out_of_scope", "start_training"),
    ("クイズを作った人と話したい", "request_human", "handoff"),
    # --- a term used as a verb before an aspect noun (「〜するタイミング」) ------------------
    ("エスカレーションするときのルールを教えて", "request_human", "definition:エスカレーション"),
    ("アウトバウンドするメリットを知りたい", "nlu_fallback", "definition:アウトバウンド"),
    # --- an FAQ named by its title or subject, or asked through a fact of its answer ---------
    ("楽天カードのコンタクトセンターって?", "define_term", "faq:rakuten_card_contact_center"),
    ("TMJのEC支援って何?", "define_term", "faq:tmj"),
    ("3,000社の導入実績がある会社はどこ?", "faq:outsourcing_companies:0.8", "faq:transcosmos"),
    ("在宅勤務やDXに対応した委託先", "faq:outsourcing_how_to_choose:0.35", "faq:transcosmos"),
    # ... and of an item of a list picked, the sibling its content words point to
    ("DXや在宅対応の実績が豊富なところはどこ", "faq:tmj:0.6", "faq:transcosmos"),
    ("解約の低減に力を入れている会社は", "faq:ntt_procx:0.7", "faq:tmj"),
    (
        "委託先のおすすめを一覧で見たいな",
        "faq:outsourcing_companies:0.8",
        "faq:outsourcing_companies",
    ),
    ("ProCXはどう?", "faq:ntt_procx:0.9", "faq:ntt_procx"),
    # --- a term in passing in a situation question: the FAQ, not the term ----------------------
    (
        "オペレーターのアップセル研修をしてくれる委託先を探しています",
        "faq:outsourcing_companies:0.3",
        "faq:tmj",
    ),
    # --- two questions in one message: the first answered (the later ones in `also`) ----------
    ("ACWとは?あとIVRって何?", "define_term", "definition:アフターコールワーク"),
    ("CXって何?CSとは違うの?", "compare_terms", "comparison:カスタマーエクスペリエンス,顧客満足度"),
    # --- the classifier's request_human with no person named: no ticket --------------------
    ("解約率を下げたいんです", "request_human", "fallback"),
    ("離職を防ぐ方法", "request_human", "out_of_scope"),
    ("至急つないでください", "request_human", "handoff"),
    ("人に聞きたい", "request_human", "handoff"),
    # --- nothing to answer: a fallback with "did you mean" candidates -----------------------
    ("昨日の件ってどうなってますかね", "nlu_fallback", "fallback"),
    # --- an FAQ titled 「<term>の<aspect>」 asked for that aspect; a beginner → the basics FAQ --
    (
        "入社したばかりの初心者です。コンタクトセンターがよく分からなくて",
        "faq:contact_center_role:0.2",
        "faq:contact_center_basics",
    ),
    (
        "コンタクトセンターの話をざっくりまとめてくれない?",
        "nlu_fallback",
        "faq:contact_center_summary",
    ),
    ("コンタクトセンターを一から教えてほしい", "define_term", "faq:contact_center_basics"),
    # 「Xって何をするところ?」 asks what X does, not what the word means: a beginner's marker
    # still gets the basics FAQ; without one, a term without such an FAQ stays the definition
    (
        "初めてです。コンタクトセンターって何をするところ?",
        "define_term",
        "faq:contact_center_basics",
    ),
    ("CRMって何をするもの?", "define_term", "definition:CRM"),
    ("SVって何をする人?", "request_human", "definition:スーパーバイザー"),
    # … but a meaning asked stays the definition, and a term without such an FAQ too
    (
        "初心者なのですが、コンタクトセンターとは何ですか",
        "faq:contact_center_basics:0.4",
        "definition:コンタクトセンター",
    ),
    ("初めて聞いたんですけど、IVRってどんなもの?", "define_term", "definition:IVR"),
    ("ACWとコンタクトセンターをまとめて説明して", "define_term", "definition:アフターコールワーク"),
    # --- two terms: the predicate's argument is asked, not a term in a modifier position ----
    # (an oblique particle に / へ / から / で …, or a subordinate clause ために / ので …)
    (
        "コンタクトセンターでのデータ分析はどんなことをするの?",
        "define_term",
        "definition:データ分析",
    ),
    (
        "オペレーターへのフィードバックはどのタイミングで?",
        "define_term",
        "definition:フィードバック",
    ),
    ("ヘルプデスクでもスクリプトは使う?", "define_term", "definition:スクリプト"),
    ("CRMでクロスセルを提案する意味は?", "define_term", "definition:クロスセル"),
    ("応答率を上げるためにIVRを入れるのは効果ある?", "define_term", "definition:IVR"),
    ("オムニチャネルのためにCRMはいる?", "define_term", "definition:CRM"),
    # --- どこ asks for an organisation; a term in a background clause only sets the scene: ---
    # an unsure pick of a guide naming organisations gives way to the list of them
    (
        "電話応対を外に出したいんだけど、どこに相談すればいい?",
        "faq:outsourcing_how_to_choose:0.3",
        "faq:outsourcing_companies",
    ),
    (
        "アウトソーシングを検討中ですが、どの会社が候補になりますか",
        "faq:outsourcing_how_to_choose:0.35",
        "faq:outsourcing_companies",
    ),
    (
        "コールセンターを任せるならどこ?",
        "faq:outsourcing_how_to_choose:0.45",
        "faq:outsourcing_companies",
    ),
    # … not どこを (which point), not a term asked in the question's own clause, not a sure pick
    (
        "委託先はどこを見て選べばいい?",
        "faq:outsourcing_how_to_choose:0.4",
        "faq:outsourcing_how_to_choose",
    ),
    ("音声認識はどこに使われている?", "faq:outsourcing_how_to_choose:0.3", "definition:音声認識"),
    (
        "外注するならどこが安心?",
        "faq:outsourcing_how_to_choose:0.8",
        "faq:outsourcing_how_to_choose",
    ),
    # どこ asks for the place, not a method: the FAQ about the subject whose title is no method
    (
        "楽天カードの請求でわからないことがあるんだけど、どこに聞けばいい?",
        "faq:rakuten_card_how_to_contact:0.45",
        "faq:rakuten_card_contact_center",
    ),
    (
        "楽天カードのコンタクトセンターにはどうやって連絡するの?",
        "faq:rakuten_card_how_to_contact:0.8",
        "faq:rakuten_card_how_to_contact",
    ),
    # --- how, not which: a list of organisations gives way to the guide over the same names --
    (
        "外注先を比較するときの注意点を教えて",
        "faq:outsourcing_companies:0.7",
        "faq:outsourcing_how_to_choose",
    ),
    (
        "委託先はどうやって決めたらいい?",
        "faq:outsourcing_companies:0.6",
        "faq:outsourcing_how_to_choose",
    ),
    # どこを + a verb of looking asks which points (how), not which organisation
    (
        "アウトソーシング先を選ぶとき、どこをチェックしておくべき?",
        "faq:outsourcing_companies:0.8",
        "faq:outsourcing_how_to_choose",
    ),
    (
        "今の外注先から乗り換えたい。比較するならどこを重視すればいいですか",
        "faq:outsourcing_companies:0.5",
        "faq:outsourcing_how_to_choose",
    ),
    # … but which one (どこ / どの会社) stays the list, and an FAQ named stays that FAQ
    (
        "乗り換えるならどこに任せるのがいい?",
        "faq:outsourcing_companies:0.6",
        "faq:outsourcing_companies",
    ),
    ("おすすめの委託先はどこ?", "faq:outsourcing_companies:0.6", "faq:outsourcing_companies"),
    (
        "どの会社に任せればいいか迷ってる",
        "faq:outsourcing_companies:0.6",
        "faq:outsourcing_companies",
    ),
    ("TMJとトランスコスモスはどう選べばいい?", "faq:outsourcing_companies:0.6", "faq:tmj"),
    # --- an organisation asked for (どこ / 「…してくれる会社」): the one the content words rank
    # first of every FAQ, clearly above the next, not the list, the guide or a dead end -------
    (
        "顧客単価を上げる手伝いをしてくれる会社が知りたい",
        "faq:outsourcing_benefits:0.3",
        "faq:tmj",
    ),
    (
        "感動体験のあとも継続したいと答えた顧客が多いのはどこ?",
        "nlu_fallback",
        "faq:transcosmos",
    ),
    # … but a company in general (the list or the guide ranks first) stays as it was
    (
        "信頼できる会社はどこですか",
        "faq:outsourcing_companies:0.6",
        "faq:outsourcing_companies",
    ),
    # どこですか asks where, like どこ (not どこで, where something happens)
    (
        "楽天カードの相談窓口はどこですか",
        "faq:rakuten_card_how_to_contact:0.45",
        "faq:rakuten_card_contact_center",
    ),
    # --- something asked of a term (not its meaning): an unsure pick about the term that the
    # FAQ text clearly agrees with is the answer; a pick the text does not back is not ---------
    (
        "コンタクトセンターってSNSでの接客にも対応してる?",
        "faq:contact_center_features:0.35:0.25",
        "faq:contact_center_features",
    ),
    (
        "コンタクトセンターってSNSでの接客にも対応してる?",
        "faq:contact_center_role:0.35:0.25",
        "definition:コンタクトセンター",
    ),
    (
        "コンタクトセンターってどういう意味?",
        "faq:contact_center_features:0.35:0.25",
        "definition:コンタクトセンター",
    ),
    # --- an aspect noun after a clause (条件 / 理由 / 目的…): the clause's term is asked -------
    ("クロスセルを勧めてよい条件って何?", "define_term", "definition:クロスセル"),
    ("あふれ呼が増える理由とは?", "define_term", "definition:あふれ呼"),
    ("ダッシュボードを使う目的って何", "define_term", "definition:ダッシュボード"),
    ("条件って何?", "define_term", "unknown"),
    # 「〜について」 marks the topic, not a modifier
    (
        "SVについて、エスカレーションとの関係を知りたい",
        "define_term",
        "definition:スーパーバイザー",
    ),
]


def routing_input(text: str, nlu: str, **state) -> RoutingInput:
    faq_id, faq_confidence, intent, confidence = None, 0.0, nlu, 0.95
    runner_up = 0.0
    if nlu.startswith("faq:"):
        _, faq_id, score, *second = nlu.split(":")
        intent, faq_confidence = "faq", float(score)
        runner_up = float(second[0]) if second else 0.0
    if nlu == "nlu_fallback":
        confidence = 0.5
    ranking = (("nlu_fallback", 0.5), ("out_of_scope", 0.48)) if "雨" in text else ()
    return RoutingInput(
        text=text,
        intent=intent,
        intent_confidence=confidence,
        intent_ranking=ranking,
        faq_id=faq_id,
        faq_confidence=faq_confidence,
        faq_runner_up=runner_up,
        matches=tuple(MATCHER.find(text)),
        **state,
    )


def describe(d: Decision) -> str:
    if d.route in (Route.DEFINITION, Route.UNKNOWN_TERM):
        first = d.subjects[0]
        return f"definition:{first.term}" if first.term else "unknown"
    if d.route == Route.COMPARISON:
        return "comparison:" + ",".join(s.term or "" for s in d.subjects)
    if d.route == Route.FAQ:
        return f"faq:{d.faq_id}"
    if d.route == Route.SMALL_TALK:
        return f"small_talk:{d.small_talk}"
    return d.route.value


def test_a_sentence_of_context_then_one_question_is_one_question():
    text = "楽天カードを使っています。ポイントの使い方はどこで聞けますか?"
    whole = routing.decide(routing_input(text, "faq:rakuten_card_contact_center:0.9"), KB)
    assert (whole.route, whole.faq_id, whole.also) == (Route.FAQ, "rakuten_card_contact_center", ())


def test_leaving_training_mode_in_a_sentence():
    d = routing.decide(
        routing_input("研修モードを終了したいです", "nlu_fallback", training_mode=True), KB
    )
    assert d.route == Route.STOP_TRAINING


def test_two_questions_answer_both():
    decision = routing.decide(routing_input("ACWとは?あとIVRって何?", "define_term"), KB)
    assert [d.known_terms for d in (decision, *decision.also)] == [
        ["アフターコールワーク"],
        ["IVR"],
    ]


def test_two_questions_in_one_sentence_joined_by_a_connective():
    decision = routing.decide(routing_input("CRMって何か、それとIVRも知りたい", "define_term"), KB)
    assert [d.known_terms for d in (decision, *decision.also)] == [["CRM"], ["IVR"]]
    # あとで / あとに is "after", not a further question
    decision = routing.decide(routing_input("通話のあと、あとでやる作業がACW?", "define_term"), KB)
    assert decision.known_terms == ["アフターコールワーク"] and decision.also == ()


def test_an_unsure_turn_offers_candidates_not_a_dead_end():
    decision = routing.decide(routing_input("物品管理をお願いできる会社", "nlu_fallback"), KB)
    assert decision.route in (Route.FALLBACK, Route.FAQ)
    if decision.route == Route.FALLBACK:
        assert ("faq", "ntt_procx") in decision.candidates


def test_unknown_query_is_a_word_never_a_cut_sentence():
    from assistant import question

    for text in (
        "新人が最初に覚えるべきことを全部まとめて教えてくれませんかとは",
        "研修で習ったことは",
    ):
        for s in question.definition_subjects(text, MATCHER.find(text)):
            assert question.is_word(s.query), s


def test_the_table_is_large_and_unique():
    assert len(ROWS) >= 150
    assert len({(t, n) for t, n, _ in ROWS}) == len(ROWS)


@pytest.mark.parametrize("text,nlu,expected", ROWS)
def test_route(text, nlu, expected):
    decision = routing.decide(routing_input(text, nlu), KB)
    assert describe(decision) == expected, decision.why


# --- conversation state -------------------------------------------------------------------
def test_yes_and_no_to_a_pending_offer():
    assert (
        routing.decide(routing_input("はい", "affirm", offer_pending=True), KB).route
        == Route.HANDOFF
    )
    assert (
        routing.decide(routing_input("いいえ", "deny", offer_pending=True), KB).route
        == Route.DECLINE_OFFER
    )
    assert (
        routing.decide(routing_input("不要", "decline_contact", offer_pending=True), KB).route
        == Route.DECLINE_OFFER
    )


def test_second_failure_in_a_row_offers_a_person_unless_in_training():
    first = routing.decide(routing_input("ロープレとは", "define_term"), KB)
    assert (first.failed_turns, first.offer_human) == (1, False)
    second = routing.decide(routing_input("ロープレとは", "define_term", failed_turns=1), KB)
    assert (second.route, second.failed_turns, second.offer_human) == (Route.UNKNOWN_TERM, 0, True)
    trainee = routing.decide(
        routing_input("ロープレとは", "define_term", failed_turns=1, training_mode=True), KB
    )
    assert not trainee.offer_human
    answered = routing.decide(routing_input("ACWとは", "define_term", failed_turns=1), KB)
    assert (answered.failed_turns, answered.offer_human) == (0, False)


def test_during_a_handoff_or_a_takeover_messages_go_to_the_person():
    for state in ({"handoff_active": True}, {"agent_owns": True}):
        assert (
            routing.decide(routing_input("ACWとは", "define_term", **state), KB).route
            == Route.FOLLOWUP
        )
        assert (
            routing.decide(routing_input("ボットに戻る", "back_to_bot", **state), KB).route
            == Route.BACK_TO_BOT
        )


def test_one_marker_vocabulary():
    from assistant import question

    assert question.asks_meaning("AHTってなんの略?") and question.has_question_marker(
        "AHTってなんの略?"
    )
    assert question.asks_meaning("IVRの略は?") and question.has_question_marker("IVRの略は?")
    for pattern, meaning in question.MARKERS:
        assert isinstance(meaning, bool) and pattern
    assert not hasattr(question, "_DEFINITION_MARKER")


def test_the_selectors_unsure_pick_is_offered_as_a_button():
    decision = routing.decide(routing_input("在庫の回収で手一杯です", "faq:ntt_procx:0.45"), KB)
    assert decision.route == Route.FALLBACK
    assert decision.candidates[0] == ("faq", "ntt_procx")
