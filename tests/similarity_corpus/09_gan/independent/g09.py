import keras
import tensorflow as tf


def discriminator_loss(logits_real, logits_fake):
    # -log sigmoid(z) = softplus(-z); -log(1 - sigmoid(z)) = softplus(z)
    return tf.reduce_mean(tf.nn.softplus(-logits_real)) + tf.reduce_mean(tf.nn.softplus(logits_fake))


def generator_loss(logits_fake):
    return tf.reduce_mean(tf.nn.softplus(-logits_fake))


def build_generator(latent_dim, hidden_units, data_dim):
    generator = keras.Sequential(
        [keras.layers.Dense(hidden_units, activation="relu", name="g1"),
         keras.layers.Dense(hidden_units, activation="relu", name="g2"),
         keras.layers.Dense(data_dim, activation="linear", name="g_out")],
        name="generator")
    generator.build((None, latent_dim))
    return generator


def build_discriminator(data_dim, hidden_units):
    discriminator = keras.Sequential(
        [keras.layers.Dense(hidden_units, activation="relu", name="d1"),
         keras.layers.Dense(hidden_units, activation="relu", name="d2"),
         keras.layers.Dense(1, activation="linear", name="d_out")],
        name="discriminator")
    discriminator.build((None, data_dim))
    return discriminator


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    fake = generator(noise, training=True)
    with tf.GradientTape() as tape:
        tape.watch(fake)
        d_loss = discriminator_loss(discriminator(real, training=True), discriminator(fake, training=True))
    d_optimizer.apply_gradients(zip(tape.gradient(d_loss, discriminator.trainable_variables),
                                    discriminator.trainable_variables))
    with tf.GradientTape() as tape:
        fake = generator(noise, training=True)
        g_loss = generator_loss(discriminator(fake, training=True))
    g_optimizer.apply_gradients(zip(tape.gradient(g_loss, generator.trainable_variables),
                                    generator.trainable_variables))
    return d_loss, g_loss
